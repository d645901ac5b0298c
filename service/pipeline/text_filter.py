"""The text filters an answer streams through: sync objects, composed in ``execute``'s loop.

A filter sees the answer in the pieces the model sends and returns what may go out now
(``feed``), then the rest at the end (``flush``). ``blocked`` stops the answer (the policy's
block message replaces it); ``counts`` are what it acted on, by kind (``redaction`` events and
the log line). A filter that also judges the whole answer (grounding) implements
``DoneAnnotator`` and adds its verdict to the ``done`` event and the log line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from service.pipeline.events import DoneEvent
    from service.pipeline.plan import AnswerPlan


class TextFilter(Protocol):
    @property
    def blocked(self) -> bool: ...

    @property
    def counts(self) -> Mapping[Any, int]:
        """Kind (a str, or a StrEnum such as ``RedactionKind``) -> how often it acted."""
        ...

    def feed(self, text: str) -> str: ...

    def flush(self) -> str: ...


@runtime_checkable
class DoneAnnotator(Protocol):
    def annotate(self, done: DoneEvent) -> DoneEvent: ...


FilterFactory = Callable[["AnswerPlan"], TextFilter]
"""Builds one request's filter from its plan (language, evidence, ...)."""
