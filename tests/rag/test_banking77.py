"""The BANKING77 retrieval eval: its building blocks, and accuracy and latency at ~10k rows."""

from __future__ import annotations

import random

import pytest

from evals.banking77 import (
    DATA_DIR,
    Example,
    build_banking77_kb,
    build_retriever,
    calibrate_threshold,
    humanise,
    measure_accuracy,
    measure_refusal,
    read_examples,
    split_dev,
    wilson_lower_bound,
)
from rag.retriever import FaqRetriever


@pytest.fixture(scope="module")
def train() -> list[Example]:
    return read_examples(DATA_DIR / "train.csv")


@pytest.fixture(scope="module")
def test_sample() -> list[Example]:
    return random.Random(0).sample(read_examples(DATA_DIR / "test.csv"), 600)


@pytest.fixture(scope="module")
def full_retriever(train: list[Example]) -> FaqRetriever:
    return build_retriever(build_banking77_kb(train))


def test_vendored_dataset_has_77_intents(train: list[Example]) -> None:
    """The vendored train split has its 10,003 rows over 77 intents."""
    assert len(train) == 10003
    assert len({example.intent for example in train}) == 77


def test_split_dev_is_stratified_disjoint_and_deterministic(train: list[Example]) -> None:
    """Every intent keeps ~10% of its rows for dev; the split is the same on every run."""
    rest, dev = split_dev(train)
    assert len(rest) + len(dev) == len(train)
    assert not set(rest) & set(dev)
    assert {e.intent for e in dev} == {e.intent for e in train}
    assert 0.09 < len(dev) / len(train) < 0.11
    assert split_dev(train) == (rest, dev)


def test_kb_has_one_entry_per_intent(train: list[Example]) -> None:
    """One entry per intent, titled by the humanised name, minus any excluded intents."""
    kb = build_banking77_kb(train, exclude=["card_arrival"])
    assert len(kb) == 76 and kb.get("card_arrival") is None
    entry = kb.get("lost_or_stolen_card")
    assert entry is not None and entry.title("en") == humanise(entry.id) == "Lost or stolen card"


def test_calibrate_threshold_picks_lowest_precise_threshold() -> None:
    """The threshold is the lowest score above which answers reach the target precision."""
    scored = [(0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False), (0.4, False)]
    assert calibrate_threshold(scored, precision=1.0) == 0.8
    assert calibrate_threshold(scored, precision=0.75) == 0.6
    assert calibrate_threshold([(0.5, False)], precision=0.9) == 1.0


def test_accuracy_at_ten_thousand_rows(
    full_retriever: FaqRetriever, test_sample: list[Example]
) -> None:
    """With ~10k rows, top-1 accuracy stays near 90% (latency is the benchmark's job)."""
    assert full_retriever.index.vectors.ntotal > 10_000
    accuracy = measure_accuracy(full_retriever, test_sample)
    assert accuracy.top1 >= 0.87 and accuracy.top3 >= 0.95


def test_refusal_of_held_out_intents(train: list[Example]) -> None:
    """With intents missing from the KB, a dev-calibrated threshold refuses most of them."""
    intents = sorted({example.intent for example in train})[:12]
    subset = [example for example in train if example.intent in intents]
    rest, dev = split_dev(subset, dev_fraction=0.2)
    questions = random.Random(1).sample(rest, 300)
    kb_rows = [example for example in rest if example not in set(questions)]
    report = measure_refusal(kb_rows, dev, questions, n_held_out=3)
    assert len(report.held_out) == 3 and report.n_held_out > 0
    assert 0.0 < report.threshold < 1.0
    assert report.refusal_recall > 0.5 and report.answer_precision > 0.85


def test_confidence_bound_demands_more_than_the_point_estimate() -> None:
    """With z > 0 the lower confidence bound of precision, not its mean, must reach the target."""
    scored = [(0.9, True)] * 19 + [(0.5, False)] + [(0.4, True)] * 20 + [(0.3, False)] * 2
    assert calibrate_threshold(scored, precision=0.9) == 0.3
    assert calibrate_threshold(scored, precision=0.9, z=1.2816) == 0.4
    assert wilson_lower_bound(9, 10, 0.0) == pytest.approx(0.9)
    assert wilson_lower_bound(9, 10, 1.2816) < 0.9
