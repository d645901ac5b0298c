"""Offline accuracy of Beacon's FAQ retrieval on BANKING77 (vendored in evals/datasets/banking77).

One KB entry per intent (question = the humanised intent name, paraphrases = its training texts
minus a stratified dev split), then ``FaqRetriever.search`` on ``test.csv``:

- accuracy: top-1 and top-3 intent accuracy over all 77 intents;
- refusal: 10 intents (``random.Random(0)``) are removed from the KB; a threshold on the top score
  is calibrated on the dev split only (lowest one whose answer precision has a 90% lower
  confidence bound ≥ 95%), then applied to
  test: answer precision (answered and right / answered) and refusal recall (held-out questions
  refused / held-out questions).

    python -m evals.banking77 [--embeddings hashing] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import get_args

from rag.embeddings import EmbeddingsName, make_embeddings
from rag.index import build_index, load_index
from rag.knowledge import FaqEntry, KnowledgeBase, knowledge_base_from_entries
from rag.retriever import FaqRetriever

DATA_DIR = Path(__file__).parent / "datasets" / "banking77"


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled customer question."""

    text: str
    intent: str


@dataclass(frozen=True)
class Accuracy:
    """Top-1 / top-3 intent accuracy over ``n`` questions."""

    top1: float
    top3: float
    n: int


@dataclass(frozen=True)
class Latency:
    """Wall-clock ``FaqRetriever.search`` latency, in milliseconds, over ``n`` calls."""

    p50_ms: float
    p99_ms: float
    max_ms: float
    n: int
    rows: int


@dataclass(frozen=True)
class RefusalReport:
    """How "refuse when top score < threshold" does with some intents missing from the KB."""

    threshold: float
    held_out: tuple[str, ...]
    answer_precision: float
    refusal_recall: float
    in_scope_answered: float
    dev_answer_precision: float
    n_in_scope: int
    n_held_out: int


def read_examples(path: Path) -> list[Example]:
    """Read a BANKING77 csv (columns: text, category)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [Example(row["text"], row["category"]) for row in csv.DictReader(fh)]


def split_dev(
    examples: Sequence[Example], *, dev_fraction: float = 0.1, seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Split ``examples`` into (train, dev), stratified by intent, deterministically."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    dev: list[Example] = []
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        cut = max(1, round(len(group) * dev_fraction))
        dev.extend(group[:cut])
        train.extend(group[cut:])
    return train, dev


def humanise(intent: str) -> str:
    """Turn an intent name into a question-like title: "card_arrival" -> "Card arrival"."""
    return intent.replace("_", " ").capitalize()


def build_banking77_kb(
    examples: Iterable[Example], *, exclude: Iterable[str] = ()
) -> KnowledgeBase:
    """Build one KB entry per intent of ``examples`` (except ``exclude``), paraphrases = texts."""
    skip = set(exclude)
    texts: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        if example.intent not in skip:
            texts[example.intent].append(example.text)
    return knowledge_base_from_entries(_entry(intent, texts[intent]) for intent in sorted(texts))


def _entry(intent: str, paraphrases: list[str]) -> FaqEntry:
    title = humanise(intent)
    answer = f"Placeholder answer for the intent '{intent}'."
    return FaqEntry(
        id=intent,
        category="banking77",
        intents=(intent,),
        source=f"banking77/{intent}",
        version=1,
        question={"en": title, "zh": title},
        paraphrases={"en": tuple(paraphrases)},
        answer={"en": answer, "zh": answer},
    )


def build_retriever(kb: KnowledgeBase, embeddings_name: EmbeddingsName = "hashing") -> FaqRetriever:
    """Build the index in a temporary directory, load it back and return a retriever."""
    embeddings = make_embeddings(embeddings_name)
    with tempfile.TemporaryDirectory(prefix="banking77-index-") as tmp:
        build_index(kb, index_dir=Path(tmp), embeddings=embeddings)
        index = load_index(Path(tmp), embeddings=embeddings)
    return FaqRetriever(kb, index)


def measure_accuracy(retriever: FaqRetriever, examples: Sequence[Example]) -> Accuracy:
    """Top-1 and top-3 accuracy of ``retriever`` on ``examples`` (entry id == intent)."""
    top1 = top3 = 0
    for example in examples:
        ids = [evidence.id for evidence in retriever.search(example.text, k=3)]
        top1 += bool(ids) and ids[0] == example.intent
        top3 += example.intent in ids
    n = len(examples)
    return Accuracy(top1=top1 / n, top3=top3 / n, n=n)


def measure_latency(retriever: FaqRetriever, questions: Sequence[str], *, k: int = 3) -> Latency:
    """Time one ``search`` per question (after a short warm-up) on this thread."""
    for question in questions[:20]:
        retriever.search(question, k=k)
    timings = []
    for question in questions:
        started = time.perf_counter()
        retriever.search(question, k=k)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return Latency(
        p50_ms=round(timings[len(timings) // 2], 3),
        p99_ms=round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        max_ms=round(timings[-1], 3),
        n=len(timings),
        rows=retriever.index.vectors.ntotal,
    )


def top_scores(retriever: FaqRetriever, examples: Sequence[Example]) -> list[tuple[float, bool]]:
    """Return (top score, top-1 is the right intent) for every example."""
    results = []
    for example in examples:
        hits = retriever.search(example.text, k=1)
        results.append((hits[0].score, hits[0].id == example.intent) if hits else (0.0, False))
    return results


def answer_precision(scored: Sequence[tuple[float, bool]], threshold: float) -> float:
    """Share of right answers among the questions whose top score reaches ``threshold``."""
    answered = [right for score, right in scored if score >= threshold]
    return sum(answered) / len(answered) if answered else 1.0


# One-sided 90% confidence: dev holds ~1,000 questions, so a point estimate of 95% precision
# there is about as likely to land at 94% as at 96% on test.
CONFIDENCE_Z = 1.2816


def wilson_lower_bound(successes: int, n: int, z: float) -> float:
    """The Wilson score interval's lower bound for a proportion (``z=0``: the point estimate)."""
    if n == 0:
        return 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def calibrate_threshold(
    scored: Sequence[tuple[float, bool]], *, precision: float = 0.95, z: float = 0.0
) -> float:
    """Return the lowest threshold at which answer precision on ``scored`` reaches ``precision``
    (with ``z`` > 0: its lower confidence bound does, a margin for a small calibration set)."""
    for threshold in sorted({score for score, _ in scored}):
        answered = [right for score, right in scored if score >= threshold]
        if wilson_lower_bound(sum(answered), len(answered), z) >= precision:
            return threshold
    return 1.0


def measure_refusal(
    train: Sequence[Example],
    dev: Sequence[Example],
    test: Sequence[Example],
    *,
    embeddings_name: EmbeddingsName = "hashing",
    n_held_out: int = 10,
    precision: float = 0.95,
) -> RefusalReport:
    """Remove ``n_held_out`` intents from the KB, calibrate on ``dev``, measure on ``test``."""
    intents = sorted({example.intent for example in train})
    held_out = tuple(sorted(random.Random(0).sample(intents, n_held_out)))
    retriever = build_retriever(build_banking77_kb(train, exclude=held_out), embeddings_name)
    dev_scored = top_scores(retriever, dev)
    threshold = calibrate_threshold(dev_scored, precision=precision, z=CONFIDENCE_Z)
    scored = top_scores(retriever, test)
    outside = [example.intent in held_out for example in test]
    refused = [score < threshold for score, _ in scored]
    inside_answered = [not r for r, out in zip(refused, outside, strict=True) if not out]
    return RefusalReport(
        threshold=round(threshold, 4),
        held_out=held_out,
        answer_precision=answer_precision(scored, threshold),
        refusal_recall=sum(r for r, out in zip(refused, outside, strict=True) if out)
        / sum(outside),
        in_scope_answered=sum(inside_answered) / len(inside_answered),
        dev_answer_precision=answer_precision(dev_scored, threshold),
        n_in_scope=len(inside_answered),
        n_held_out=sum(outside),
    )


def run(
    data_dir: Path = DATA_DIR, embeddings_name: EmbeddingsName = "hashing"
) -> dict[str, object]:
    """Run the accuracy, refusal and latency measurements and return a JSON-ready report."""
    full_train = read_examples(data_dir / "train.csv")
    train, dev = split_dev(full_train)
    test = read_examples(data_dir / "test.csv")
    started = time.perf_counter()
    retriever = build_retriever(build_banking77_kb(train), embeddings_name)
    built = time.perf_counter() - started
    accuracy = measure_accuracy(retriever, test)
    refusal = measure_refusal(train, dev, test, embeddings_name=embeddings_name)
    return {
        "dataset": "banking77",
        "embeddings": embeddings_name,
        "kb_entries": len(retriever.kb),
        "index_rows": retriever.index.vectors.ntotal,
        "build_seconds": round(built, 2),
        "accuracy": asdict(accuracy),
        "refusal": asdict(refusal),
        # Latency with the whole train set as one KB: ~10k rows, the size the budget is set for.
        "latency": asdict(
            measure_latency(
                build_retriever(build_banking77_kb(full_train), embeddings_name),
                [example.text for example in test],
            )
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: print the figures and optionally write them as JSON."""
    parser = argparse.ArgumentParser(prog="python -m evals.banking77", description=__doc__)
    parser.add_argument("--embeddings", choices=get_args(EmbeddingsName), default="hashing")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--json", type=Path, help="write the report to this file")
    args = parser.parse_args(argv)
    report = run(args.data_dir, args.embeddings)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
