"""Extractive summaries: what a conversation was about, without a model.

The summary keeps the entries the answers came from (most recent last, at most
``MAX_TOPICS``) and the entities the customer mentioned (the latest value wins). It is built
from turns that are already redacted, so it never holds more than they do.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.conversations.turn import Summary, Turn

MAX_TOPICS = 8


def extend_summary(summary: Summary, turn: Turn, *, titles: Mapping[str, str]) -> Summary:
    """The summary after ``turn``; ``titles`` names entries in the text (id when unknown)."""
    topics = list(summary.topics)
    if turn.citations and turn.route != "clarify":
        first = turn.citations[0]
        if first in topics:
            topics.remove(first)
        topics.append(first)
    topics = topics[-MAX_TOPICS:]
    entities = {**summary.entities, **turn.entities}
    return Summary(
        topics=tuple(topics), entities=entities, text=summary_text(topics, entities, titles)
    )


def summary_text(
    topics: list[str] | tuple[str, ...], entities: Mapping[str, str], titles: Mapping[str, str]
) -> str:
    """One line a prompt (or a person) can read: topics discussed and entities mentioned."""
    parts = []
    if topics:
        parts.append("Topics: " + "; ".join(titles.get(topic, topic) for topic in topics))
    if entities:
        parts.append("Entities: " + ", ".join(f"{k}={v}" for k, v in sorted(entities.items())))
    return ". ".join(parts)
