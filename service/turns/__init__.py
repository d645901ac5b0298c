"""Resumable turns: a per-turn event buffer behind a small interface (in-process by default)."""

from service.turns.buffer import (
    Turn,
    TurnBuffer,
    TurnCodec,
    TurnConflict,
    TurnHistoryLost,
    TurnLimits,
    TurnNotFound,
    fingerprint,
)
from service.turns.in_process import InProcessTurnBuffer

__all__ = [
    "InProcessTurnBuffer",
    "Turn",
    "TurnBuffer",
    "TurnCodec",
    "TurnConflict",
    "TurnHistoryLost",
    "TurnLimits",
    "TurnNotFound",
    "fingerprint",
]
