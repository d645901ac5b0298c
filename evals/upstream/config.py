"""What the simulator can be told: process-wide settings and the closed sets of faults and modes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    """Failures a request can ask for, by ``x-sim-fault`` header or ``+name`` model suffix.

    The docstrings describe streaming requests; a non-streaming request gets the same failure
    on its one JSON body (no response at all, a late one, a reset, ``{not json``, or a body cut
    in half behind a clean HTTP end).
    """

    NO_FIRST_TOKEN = "no_first_token"
    """Headers are sent, then nothing until the client gives up."""
    SLOW_FIRST_TOKEN = "slow_first_token"
    """The first token comes after 3x the configured TTFT (or after ``x-sim-ttft-ms``)."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429 with ``Retry-After: 1`` and an OpenAI-style error body."""
    SERVER_ERROR = "server_error"
    """HTTP 500 with an OpenAI-style error body."""
    RESET_MID_STREAM = "reset_mid_stream"
    """A few chunks, then the TCP connection is reset."""
    MALFORMED_CHUNK = "malformed_chunk"
    """A few chunks, then a ``data: {not json`` line, then the body ends."""
    NO_DONE = "no_done"
    """All content chunks, then a clean end without finish_reason, usage or ``[DONE]``."""
    NEVER_ENDS = "never_ends"
    """Content chunks forever, until the client disconnects."""


class Mode(StrEnum):
    """How the simulated model behaves, by ``x-sim-mode`` header or ``+name`` model suffix."""

    HELPFUL = "helpful"
    """Answers from the evidence in the prompt (the default)."""
    COMPLIANT = "compliant"
    """Obeys any prompt injection: echoes the system prompt, secrets included, then the question."""
    UNFAITHFUL = "unfaithful"
    """Answers from the evidence, but a seeded share of answers (``unfaithful_rate``, or the
    ``x-sim-unfaithful-rate`` header) changes a number, drops a condition or invents a URL."""


SLOW_FIRST_TOKEN_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Process-wide defaults; ``x-sim-*`` headers override them per request."""

    ttft_ms: float = 50.0
    tokens_per_second: float = 50.0
    answer: str | None = None
    """Fixed answer text for every request; None derives the answer from the request."""
    mode: Mode = Mode.HELPFUL
    """The mode of requests that name none (``--mode unfaithful`` for a whole acceptance run)."""
    unfaithful_rate: float = 1.0
    """Share of unfaithful-mode answers that are corrupted."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.unfaithful_rate <= 1.0:
            raise ValueError(f"unfaithful_rate must be in [0, 1], got {self.unfaithful_rate}")
        if self.ttft_ms < 0:
            raise ValueError(f"ttft_ms must be >= 0, got {self.ttft_ms}")
        if self.tokens_per_second <= 0:
            raise ValueError(f"tokens_per_second must be > 0, got {self.tokens_per_second}")

    def to_cli_args(self) -> list[str]:
        """Return the ``python -m evals.upstream`` options that reproduce this config."""
        args = ["--ttft-ms", str(self.ttft_ms), "--tokens-per-second", str(self.tokens_per_second)]
        if self.answer is not None:
            args += ["--answer", self.answer]
        if self.mode is not Mode.HELPFUL:
            args += ["--mode", self.mode.value]
        if self.unfaithful_rate != 1.0:
            args += ["--unfaithful-rate", str(self.unfaithful_rate)]
        return args
