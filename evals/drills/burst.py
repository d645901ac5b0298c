"""What drills send: the questions of each route, bursts of them, and model outages."""

from __future__ import annotations

from evals.drills.client import AskSpec
from evals.upstream.config import SimulatorConfig

EASY = "How do I request a refund?"
HARD = "How do I request a refund? And how long does delivery take?"
RISKY = "Someone used my card without my permission. What should I do?"
ORDER = "Where is my order BC-100004?"
FIRST_TOKEN_S = 0.5
TOTAL_S = 2.0
SLOW = SimulatorConfig(ttft_ms=20, tokens_per_second=20)  # ~1.2 s per answer


def is_ticket(value: object) -> bool:
    """a handoff ticket id"""
    return str(value).startswith("HO-")


def burst(
    question: str,
    n: int,
    *,
    fault: str | None = None,
    headers: dict[str, str] | None = None,
    disconnect_after_tokens: int | None = None,
    body: bytes | None = None,
) -> list[AskSpec]:
    headers = {**(headers or {}), **({"x-beacon-fault": fault} if fault else {})}
    spec = AskSpec(
        question, headers=headers, disconnect_after_tokens=disconnect_after_tokens, body=body
    )
    return [spec] * n


def outage(**models: str) -> dict[str, str]:
    """Settings that give a tier's model a simulator fault on every call."""
    names = {"easy": "beacon-easy", "hard": "beacon-hard"}
    return {f"BEACON_LLM__{tier.upper()}_MODEL": f"{names[tier]}+{f}" for tier, f in models.items()}
