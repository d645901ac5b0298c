"""Extractive summaries and the history a model's prompt gets within its token budget."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.conversations.history import history_messages
from service.conversations.summary import MAX_TOPICS, extend_summary
from service.conversations.turn import Summary
from service.resilience.token_estimate import TOKENS_PER_MESSAGE, estimate_text_tokens
from tests.conversations.factories import context, turn

TITLES = {"refund-request": "How do I request a refund?"}


def test_summary_keeps_cited_topics_latest_last_and_entities() -> None:
    """Topics are the entries answers came from (repeat moves to the end); entities merge."""
    summary = Summary()
    for entry in ("refund-request", "order-track", "refund-request"):
        summary = extend_summary(summary, turn(citations=(entry,)), titles=TITLES)
    summary = extend_summary(
        summary, turn(citations=(), entities={"order_id": "BC-100231"}), titles=TITLES
    )
    assert summary.topics == ("order-track", "refund-request")
    assert summary.entities == {"order_id": "BC-100231"}
    assert "How do I request a refund?" in summary.text and "BC-100231" in summary.text


def test_a_clarifying_turn_adds_no_topic() -> None:
    """A clarifying question answered from nothing, so it is no topic of the conversation."""
    summary = extend_summary(Summary(), turn(route="clarify", citations=()), titles=TITLES)
    assert summary.topics == ()


def test_summary_topics_are_bounded() -> None:
    """However long the conversation, the summary keeps at most MAX_TOPICS topics."""
    summary = Summary()
    for n in range(3 * MAX_TOPICS):
        summary = extend_summary(summary, turn(citations=(f"e{n}",)), titles={})
    assert len(summary.topics) == MAX_TOPICS and summary.topics[-1] == f"e{3 * MAX_TOPICS - 1}"


@given(budget=st.integers(0, 400), n=st.integers(0, 12))
def test_history_fits_the_budget_and_keeps_the_newest_turns(budget: int, n: int) -> None:
    """The history never exceeds its token budget, and what is kept is the most recent turns."""
    turns = [turn(f"question number {i} " * 3) for i in range(n)]
    messages = history_messages(
        context(*turns, summary=Summary(text="Topics: refunds")), budget_tokens=budget
    )
    spent = sum(TOKENS_PER_MESSAGE + estimate_text_tokens(m.content) for m in messages)
    assert spent <= budget
    questions = [m.content for m in messages if m.role == "user"]
    assert questions == [t.question for t in turns[len(turns) - len(questions) :]]
