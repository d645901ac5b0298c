"""The linear intent matcher: training, bilingual predictions and pickle-free persistence."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rag.index import kb_rows
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.matcher import ARRAYS_FILE, IntentMatcher
from tests.rag.test_knowledge import DEMO_KB_DIR


def train_on(kb: KnowledgeBase) -> IntentMatcher:
    rows = kb_rows(kb)
    return IntentMatcher.train([text for _, _, text in rows], [entry for entry, _, _ in rows])


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("I'd like to get my money back", "refund-request"),
        ("please cancel the order", "order-cancel"),
        ("我想退款", "refund-request"),
        ("订单怎么取消", "order-cancel"),
        ("密码不记得了", "password-reset"),
        ("快递要几天", "delivery-time"),
    ],
)
def test_matcher_scores_the_right_entry_highest_in_both_languages(
    small_kb: KnowledgeBase, question: str, entry: str
) -> None:
    """Unseen English and Chinese paraphrases get their entry's highest score."""
    matcher = train_on(small_kb)
    scores = matcher.predict_scores(question)
    assert matcher.labels[int(np.argmax(scores))] == entry
    assert ((scores >= 0) & (scores <= 1)).all()


def test_matcher_round_trips_without_pickle(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A saved matcher holds only plain arrays and JSON, and loads to identical scores."""
    matcher = train_on(small_kb)
    matcher.save(tmp_path)
    with zipfile.ZipFile(tmp_path / ARRAYS_FILE) as archive:
        assert sorted(archive.namelist()) == [
            "coef.npy",
            "columns.npy",
            "dense_coef.npy",
            "idf.npy",
            "intercept.npy",
        ]
    loaded = IntentMatcher.load(tmp_path)
    assert loaded.labels == matcher.labels
    for question in ("refund please", "忘记密码"):
        np.testing.assert_array_equal(
            loaded.predict_scores(question), matcher.predict_scores(question)
        )


def test_matcher_with_two_entries_scores_both(small_kb: KnowledgeBase) -> None:
    """With two entries (a binary classifier underneath), each entry still wins its questions."""
    texts = ["refund please", "money back", "cancel order", "stop my purchase"]
    matcher = IntentMatcher.train(texts, ["refund", "refund", "cancel", "cancel"])
    assert matcher.labels == ("refund", "cancel")
    assert np.argmax(matcher.predict_scores("I want my money back")) == 0
    assert np.argmax(matcher.predict_scores("cancel my order")) == 1


def test_matcher_with_one_entry_abstains() -> None:
    """With a single entry there is nothing to discriminate, so every score is 0."""
    matcher = IntentMatcher.train(["refund please", "money back"], ["refund", "refund"])
    assert matcher.predict_scores("refund please").tolist() == [0.0]


def test_matcher_trains_on_the_demo_kb_quickly() -> None:
    """Training on the shipped demo KB takes under two seconds."""
    kb = load_knowledge_base(DEMO_KB_DIR)
    started = time.perf_counter()
    train_on(kb)
    assert time.perf_counter() - started < 2.0


def test_matcher_learns_from_an_embedding_block(tmp_path: Path) -> None:
    """Given one embedding per text, the matcher decides by it when the words are unknown, and
    the embedding block survives a save and load."""
    texts = ["refund please", "money back", "cancel order", "stop my purchase"]
    dense = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.float32)
    matcher = IntentMatcher.train(texts, ["refund", "refund", "cancel", "cancel"], dense=dense)
    assert matcher.uses_dense
    towards_cancel = np.array([0, 1], np.float32)
    assert np.argmax(matcher.predict_scores("zzqx", towards_cancel)) == 1
    assert np.argmax(matcher.predict_scores("zzqx", np.array([1, 0], np.float32))) == 0
    matcher.save(tmp_path)
    loaded = IntentMatcher.load(tmp_path)
    np.testing.assert_array_equal(
        loaded.predict_scores("zzqx", towards_cancel),
        matcher.predict_scores("zzqx", towards_cancel),
    )


def test_out_of_scope_texts_teach_the_matcher_what_no_entry_answers() -> None:
    """Texts labelled None are negatives for every entry: a question like them scores lower
    than without them, and they add no label."""
    texts = ["refund please", "money back", "cancel order", "stop my purchase"]
    labels: list[str | None] = ["refund", "refund", "cancel", "cancel"]
    negatives = ["stock price today", "what is the stock market doing", "price of gold"]
    plain = IntentMatcher.train(texts, labels)
    taught = IntentMatcher.train([*texts, *negatives], [*labels, *[None] * len(negatives)])
    assert taught.labels == plain.labels == ("refund", "cancel")
    question = "stock price of apple"
    assert taught.predict_scores(question).max() < plain.predict_scores(question).max()
    assert np.argmax(taught.predict_scores("I want my money back")) == 0


def test_an_order_number_does_not_dilute_a_match(small_kb: KnowledgeBase) -> None:
    """An identifier is no evidence either way: the question scores as it would without it."""
    matcher = train_on(small_kb)
    np.testing.assert_array_equal(
        matcher.predict_scores("please cancel the order 113542617735902"),
        matcher.predict_scores("please cancel the order"),
    )
