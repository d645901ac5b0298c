"""Prompts are data: one Markdown file per prompt, with a version, loaded and hashed at startup.

File shape::

    ---
    name: answer_easy
    version: 2
    ---
    ## en
    ...text with {placeholders}...
    ## zh
    ...
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from rag.language import Lang

PROMPTS_DIR = Path(__file__).parent
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n(?P<body>.*)\Z", re.DOTALL)
_SECTION = re.compile(r"^## (en|zh)\s*$", re.MULTILINE)


class PromptError(ValueError):
    """A prompt file is malformed; the message names the file."""


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    version: int
    sha256: str
    texts: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}-{self.sha256[:8]}"

    def render(self, lang: Lang, **values: str) -> str:
        return self.texts[lang].format(**values)


@dataclass(frozen=True, slots=True)
class PromptSet:
    prompts: dict[str, Prompt]
    version: str  # one hash over every prompt: what `meta.prompt_version` reports

    def __getitem__(self, name: str) -> Prompt:
        return self.prompts[name]

    def labels(self) -> dict[str, str]:
        return {name: prompt.label for name, prompt in sorted(self.prompts.items())}


def parse_prompt(path: Path) -> Prompt:
    raw = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(raw)
    if match is None:
        raise PromptError(f"{path.name}: missing '---' front matter with name and version")
    meta = yaml.safe_load(match["meta"]) or {}
    if not isinstance(meta.get("name"), str) or not isinstance(meta.get("version"), int):
        raise PromptError(f"{path.name}: front matter needs 'name' (str) and 'version' (int)")
    parts = _SECTION.split(match["body"])
    texts = {lang: text.strip() for lang, text in zip(parts[1::2], parts[2::2], strict=True)}
    if set(texts) != {"en", "zh"}:
        raise PromptError(f"{path.name}: needs exactly one '## en' and one '## zh' section")
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return Prompt(name=meta["name"], version=meta["version"], sha256=digest, texts=texts)


def load_prompts(directory: Path = PROMPTS_DIR) -> PromptSet:
    prompts = {p.name: p for p in map(parse_prompt, sorted(directory.glob("*.md")))}
    if not prompts:
        raise PromptError(f"no prompt files in {directory}")
    combined = hashlib.sha256("".join(p.sha256 for p in prompts.values()).encode()).hexdigest()
    return PromptSet(prompts=prompts, version=f"p-{combined[:12]}")
