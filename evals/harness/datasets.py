"""Suites built from the vendored datasets: Bitext over the demo KB, and BANKING77 with its own KB.

- ``bitext``: all 4,514 Bitext requests; the expected entry is the demo KB entry whose
  ``intents`` list holds the request's intent.
- ``banking77``: a KB of one entry per intent built from ``train.csv`` only, asked every
  ``test.csv`` query.
- ``banking77_heldout``: the same without 10 intents (``random.Random(0)``) and without a dev
  split carved from ``train.csv``; the refusal threshold is calibrated on that dev split (never on
  test) for 95% answer precision at 90% confidence, and the held-out intents' test queries must
  be refused.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from pathlib import Path

import yaml

from evals.banking77 import (
    CONFIDENCE_Z,
    Example,
    build_banking77_kb,
    calibrate_threshold,
    read_examples,
    split_dev,
    top_scores,
)
from evals.banking77 import (
    DATA_DIR as BANKING77_DIR,
)
from evals.harness.cases import OUT_OF_SCOPE, Case, SuiteError
from evals.harness.suites import Suite, SuiteOptions
from rag.embeddings import EmbeddingsName
from rag.index import ensure_index
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.retriever import FaqRetriever
from service.settings import DEFAULT_KB_DIR

BITEXT_CSV = (
    Path(__file__).resolve().parent.parent
    / "datasets"
    / "bitext-customer-support"
    / "bitext_customer_support_4514.csv"
)
# Bitext's language-variation letters worth a per-tag figure; the others are kept as letters.
_BITEXT_TAGS = {
    "Q": "colloquial",
    "Z": "typo",
    "W": "offensive",
    "K": "keyword",
    "C": "coordinated",
}
HELD_OUT_INTENTS = 10
ANSWER_PRECISION = 0.95


def bitext_suite(options: SuiteOptions, *, kb_dir: Path = DEFAULT_KB_DIR) -> Suite:
    """Every Bitext request, expecting the demo KB entry that lists its intent."""
    entry_of = _entries_by_intent(load_knowledge_base(kb_dir))
    with BITEXT_CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    missing = sorted({row["intent"] for row in rows} - set(entry_of))
    if missing:
        raise SuiteError(f"bitext: no KB entry lists the intents {missing}")
    cases = tuple(
        Case(
            id=f"bitext-{number:04d}",
            question=row["instruction"],
            lang="en",
            expect_faq=(entry_of[row["intent"]],),
            tags=(row["intent"], *_bitext_tags(row["tags"])),
        )
        for number, row in enumerate(rows, start=1)
    )
    del options  # the demo KB needs no work directory
    return Suite(name="bitext", cases=cases, description="Bitext requests over the demo KB")


def _entries_by_intent(kb: KnowledgeBase) -> dict[str, str]:
    return {intent: entry.id for entry in kb for intent in entry.intents}


def _bitext_tags(letters: str) -> list[str]:
    return [_BITEXT_TAGS.get(letter, f"bitext-{letter}") for letter in letters]


def banking77_suite(options: SuiteOptions) -> Suite:
    """The 3,080 test queries against a KB built from the whole of ``train.csv``."""
    kb = build_banking77_kb(read_examples(BANKING77_DIR / "train.csv"))
    test = read_examples(BANKING77_DIR / "test.csv")
    env = _write_kb(kb, options.work_dir / "banking77", options.embeddings)
    cases = tuple(_case(number, example) for number, example in enumerate(test, start=1))
    return Suite(
        name="banking77",
        cases=cases,
        description="BANKING77 test.csv against a KB of one entry per intent from train.csv",
        server_env=env,
        notes={"kb_entries": len(kb)},
    )


def banking77_heldout_suite(options: SuiteOptions) -> Suite:
    """Test queries against a KB missing 10 intents, refusal threshold calibrated on dev."""
    train, dev = split_dev(read_examples(BANKING77_DIR / "train.csv"))
    intents = sorted({example.intent for example in train})
    held_out = set(random.Random(0).sample(intents, HELD_OUT_INTENTS))
    kb = build_banking77_kb(train, exclude=held_out)
    work = options.work_dir / "banking77_heldout"
    env = _write_kb(kb, work, options.embeddings)
    threshold = _calibrate(kb, Path(env["BEACON_RETRIEVAL__INDEX_DIR"]), options.embeddings, dev)
    test = read_examples(BANKING77_DIR / "test.csv")
    cases = tuple(
        _case(number, example, refuse=example.intent in held_out)
        for number, example in enumerate(test, start=1)
    )
    return Suite(
        name="banking77_heldout",
        cases=cases,
        description=f"BANKING77 with {HELD_OUT_INTENTS} intents held out of the KB",
        server_env={**env, "BEACON_ROUTER__ANSWER_MIN_SCORE": f"{threshold:.6f}"},
        notes={
            "held_out_intents": sorted(held_out),
            "answer_min_score": round(threshold, 4),
            "calibrated_on": f"dev split of train.csv ({len(dev)} questions)",
            "target_answer_precision": ANSWER_PRECISION,
        },
    )


def _case(number: int, example: Example, *, refuse: bool = False) -> Case:
    expect = (OUT_OF_SCOPE,) if refuse else (example.intent,)
    return Case(
        id=f"b77-{number:04d}",
        question=example.text,
        lang="en",
        expect_faq=expect,
        expect_route=OUT_OF_SCOPE if refuse else None,
        tags=("held_out",) if refuse else (),
    )


def _write_kb(kb: KnowledgeBase, work: Path, embeddings: str) -> dict[str, str]:
    """Write ``kb`` as YAML under ``work`` and return the settings that point an app at it."""
    kb_dir = work / "kb"
    kb_dir.mkdir(parents=True, exist_ok=True)
    document = {"entries": [entry.to_json() for entry in kb]}
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    path = kb_dir / "kb.yaml"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return {
        "BEACON_RETRIEVAL__KB_DIR": str(kb_dir),
        "BEACON_RETRIEVAL__INDEX_DIR": str(work / f"index-{embeddings}"),
    }


def _calibrate(
    kb: KnowledgeBase, index_dir: Path, embeddings: str, dev: Sequence[Example]
) -> float:
    """Build (or reuse) the index the app will load, and calibrate the refusal threshold."""
    index = ensure_index(kb, index_dir, _embeddings_name(embeddings))
    retriever = FaqRetriever(kb, index)
    scored = top_scores(retriever, dev)
    return calibrate_threshold(scored, precision=ANSWER_PRECISION, z=CONFIDENCE_Z)


def _embeddings_name(name: str) -> EmbeddingsName:
    if name not in ("hashing", "minilm", "openai"):
        raise SuiteError(f"unknown embeddings {name!r}")
    return name  # type: ignore[return-value]
