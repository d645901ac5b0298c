"""Prompts are versioned data files, parsed strictly and hashed at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompts.loader import PromptError, load_prompts, parse_prompt


def test_shipped_prompts_load_in_both_languages() -> None:
    """Every shipped prompt has en and zh text and a label with its version and hash."""
    prompts = load_prompts()
    assert {
        "system",
        "answer_easy",
        "answer_hard",
        "answer_conservative",
        "refusal",
        "handoff",
    } <= set(prompts.prompts)
    for prompt in prompts.prompts.values():
        assert prompt.texts["en"] and prompt.texts["zh"]
        assert prompt.label.startswith(f"{prompt.name}@v{prompt.version}-")
    assert "{canary}" in prompts["system"].texts["en"]


def test_prompt_set_version_changes_with_any_prompt(tmp_path: Path) -> None:
    """Editing one prompt changes the combined prompt_version."""
    body = "---\nname: p\nversion: 1\n---\n## en\nhello\n## zh\n你好\n"
    (tmp_path / "p.md").write_text(body, encoding="utf-8")
    before = load_prompts(tmp_path).version
    (tmp_path / "p.md").write_text(body.replace("hello", "hi"), encoding="utf-8")
    assert load_prompts(tmp_path).version != before


@pytest.mark.parametrize(
    "text",
    [
        "## en\nhi\n## zh\n你好\n",
        "---\nname: p\n---\n## en\nhi\n## zh\n你好\n",
        "---\nname: p\nversion: 1\n---\n## en\nhi\n",
    ],
)
def test_malformed_prompt_files_are_rejected(tmp_path: Path, text: str) -> None:
    """Missing front matter, version or a language section is a PromptError naming the file."""
    path = tmp_path / "broken.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match=r"broken\.md"):
        parse_prompt(path)
