"""In-process conversation turn counts (a Redis store replaces it when replicas share state)."""

from __future__ import annotations

from collections import OrderedDict


class ConversationStore:
    def __init__(self, *, max_conversations: int = 10_000) -> None:
        self._turns: OrderedDict[str, int] = OrderedDict()
        self._max = max_conversations

    def next_turn(self, conversation_id: str | None) -> int:
        """Count this message and return its turn number (1 for a new or anonymous chat)."""
        if conversation_id is None:
            return 1
        turn = self._turns.pop(conversation_id, 0) + 1
        self._turns[conversation_id] = turn
        if len(self._turns) > self._max:
            self._turns.popitem(last=False)
        return turn
