"""The conversation store interface: small and async, so a Redis store can stand in for SQLite.

Every method may raise :class:`ConversationStoreUnavailable`; callers answer statelessly then
(``degraded: true``), they never fail the request for it.
"""

from __future__ import annotations

from typing import Protocol

from service.conversations.turn import ConversationContext, Summary, Turn


class ConversationStoreUnavailable(Exception):
    """The store cannot be read or written now (file locked, disk full, server down)."""


class ConversationStore(Protocol):
    async def load(self, conversation_id: str) -> ConversationContext | None:
        """The conversation's recent turns and summary, or None when unknown or expired."""
        ...

    async def append(
        self, conversation_id: str, turn: Turn, *, summary: Summary, owner: str | None
    ) -> None:
        """Store ``turn`` and the summary including it; drop turns beyond the verbatim limit.
        ``owner`` is recorded when the conversation is created, never changed afterwards."""
        ...

    async def set_summary(self, conversation_id: str, summary: Summary) -> None:
        """Replace the summary (a model's refresh, already redacted)."""
        ...

    async def delete(self, conversation_id: str) -> bool:
        """Forget the conversation entirely; False when there was nothing to forget."""
        ...

    async def prune(self) -> int:
        """Delete conversations idle longer than the TTL; return how many went."""
        ...

    async def aclose(self) -> None: ...


class UnavailableStore:
    """Stands in when the store cannot even be opened: every call is unavailable, so every
    turn is answered statelessly (``degraded``) until the service restarts with a store."""

    async def load(self, conversation_id: str) -> ConversationContext | None:  # noqa: ARG002
        raise ConversationStoreUnavailable("not_opened")

    async def append(
        self,
        conversation_id: str,  # noqa: ARG002
        turn: Turn,  # noqa: ARG002
        *,
        summary: Summary,  # noqa: ARG002
        owner: str | None,  # noqa: ARG002
    ) -> None:
        raise ConversationStoreUnavailable("not_opened")

    async def set_summary(self, conversation_id: str, summary: Summary) -> None:  # noqa: ARG002
        raise ConversationStoreUnavailable("not_opened")

    async def delete(self, conversation_id: str) -> bool:  # noqa: ARG002
        raise ConversationStoreUnavailable("not_opened")

    async def prune(self) -> int:
        raise ConversationStoreUnavailable("not_opened")

    async def aclose(self) -> None:
        return None
