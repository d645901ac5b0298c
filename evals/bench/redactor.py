"""``redactor``: what the streaming redactor costs per token, and how long it holds text back.

The answers are the demo KB's (English and Chinese) and one dense with PII, cut into model-sized
chunks by the upstream simulator's tokenizer. Cost: the CPU time to ``feed`` every chunk and
``flush`` (a fresh redactor per answer, as per request), per chunk, next to a no-op pass-through
timed in the same rounds; the median round is reported. Hold-back: for every character of a plain
answer, how many chunks passed between its arrival and its release, in characters held and in
milliseconds at 50 tokens/s (a chunk every 20 ms; the end of the stream releases the rest).

A pure-CPU scenario (no processes): ``python -m evals.bench.redactor [--json PATH]`` runs it alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from statistics import median
from typing import Any, Protocol

from evals.bench.profile import Profile
from evals.bench.standalone import run_standalone
from evals.bench.summary import percentile
from evals.upstream.tokens import split_tokens
from rag.knowledge import load_knowledge_base
from service.pipeline.redact import RedactionPolicy, StreamRedactor, load_redaction_policy
from service.settings import DEFAULT_KB_DIR

CANARY = "BEACON-CANARY-bench-5e1f"
TOKENS_PER_SECOND = 50.0
ROUNDS = {"full": 200, "smoke": 3}
PII_ANSWER = (
    "We have updated your account: email jane.doe@example.com, phone +86 138 1234 5678, "
    "card 4111 1111 1111 1111, ID 11010519491231002X. If anything looks wrong, call "
    "+1 (415) 555-2671 or reply to support@shop.example. Your refund of 25.90 for order "
    "4412-778 will reach the card within 5 business days."
)


class Filter(Protocol):
    def feed(self, chunk: str) -> str: ...
    def flush(self) -> str: ...


class PassThrough:
    """The no-op baseline: releases every chunk as it comes."""

    def feed(self, chunk: str) -> str:
        return chunk

    def flush(self) -> str:
        return ""


def corpus() -> dict[str, list[list[str]]]:
    """Answers per case, each as the chunks a model would stream."""
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    return {
        "en": [split_tokens(entry.answer_in("en")) for entry in kb],
        "zh": [split_tokens(entry.answer_in("zh")) for entry in kb],
        "en_pii": [split_tokens(PII_ANSWER)] * 20,
    }


def cost_per_chunk_us(make: Callable[[], Filter], answers: Sequence[list[str]]) -> float:
    """CPU time per chunk of streaming every answer through a fresh filter."""
    chunks = sum(len(answer) for answer in answers)
    started = time.process_time_ns()
    for answer in answers:
        stream = make()
        for chunk in answer:
            stream.feed(chunk)
        stream.flush()
    return (time.process_time_ns() - started) / chunks / 1000


def measure_cost(
    policy: RedactionPolicy, answers: Sequence[list[str]], rounds: int
) -> dict[str, float]:
    """Median per-chunk cost of the redactor and of the pass-through, rounds interleaved."""

    def redactor() -> Filter:
        return StreamRedactor(policy, canaries=(CANARY,))

    redacting, passing = [], []
    gc.disable()
    try:
        for _ in range(rounds):
            redacting.append(cost_per_chunk_us(redactor, answers))
            passing.append(cost_per_chunk_us(PassThrough, answers))
    finally:
        gc.enable()
    cost, baseline = median(redacting), median(passing)
    return {
        "chunks_per_round": sum(len(answer) for answer in answers),
        "redactor_us_per_token": round(cost, 3),
        "redactor_p90_us_per_token": round(percentile(redacting, 90), 3),
        "passthrough_us_per_token": round(baseline, 3),
        "added_us_per_token": round(cost - baseline, 3),
        "ratio_to_passthrough": round(cost / baseline, 1) if baseline else float("nan"),
    }


def measure_holdback(policy: RedactionPolicy, answers: Sequence[list[str]]) -> dict[str, float]:
    """Characters held back after each chunk, and each character's delay, at 50 tokens/s."""
    held: list[int] = []
    delays: list[int] = []  # chunks between a character's arrival and its release
    first: list[int] = []  # chunks before the first character is released
    for answer in answers:
        redactor = StreamRedactor(policy, canaries=(CANARY,))
        arrived: list[int] = []
        released: list[int] = []
        for i, chunk in enumerate(answer):
            arrived += [i] * len(chunk)
            released += [i] * len(redactor.feed(chunk))
            held.append(redactor.held)
        released += [len(answer) - 1] * len(redactor.flush())  # the stream's end: right away
        if len(released) != len(arrived):
            raise ValueError("a plain answer changed length: it holds something to redact")
        delays += [out - came for came, out in zip(arrived, released, strict=True)]
        first.append(released[0] if released else 0)
    ms = 1000 / TOKENS_PER_SECOND
    return {
        "held_chars_mean": round(sum(held) / len(held), 2),
        "held_chars_p99": round(percentile(held, 99), 1),
        "held_chars_max": max(held),
        "delayed_char_share": round(sum(d > 0 for d in delays) / len(delays), 4),
        "delay_ms_mean": round(sum(delays) / len(delays) * ms, 2),
        "delay_ms_p99": round(percentile(delays, 99) * ms, 1),
        "delay_ms_max": round(max(delays) * ms, 1),
        "first_token_delay_ms_mean": round(sum(first) / len(first) * ms, 2),
    }


def measure(profile: Profile) -> dict[str, Any]:
    policy = load_redaction_policy()
    rounds = ROUNDS.get(profile.name, ROUNDS["smoke"])
    answers = corpus()
    cases = {name: measure_cost(policy, chunks, rounds) for name, chunks in answers.items()}
    holdback = {name: measure_holdback(policy, answers[name]) for name in ("en", "zh")}
    return {
        "rounds": rounds,
        "tokens_per_second": TOKENS_PER_SECOND,
        "cost": cases,
        "holdback": holdback,
    }


def run(_: object, profile: Profile) -> dict[str, Any]:
    """The ``beacon bench`` entry (the fleet is not needed: no processes)."""
    return measure(profile)


def rows(result: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """Rows for ``beacon bench``'s Markdown table."""
    for name, case in result["cost"].items():
        yield (
            "redactor",
            f"{name} CPU per token (pass-through {case['passthrough_us_per_token']} µs, "
            f"x{case['ratio_to_passthrough']})",
            f"{case['redactor_us_per_token']} µs",
            "",
            "",
        )
    for name, hold in result["holdback"].items():
        yield (
            "redactor",
            f"{name} hold-back at {result['tokens_per_second']:.0f} tokens/s (mean / p99 / max)",
            f"{hold['held_chars_mean']} / {hold['held_chars_p99']} / {hold['held_chars_max']} "
            f"chars; {hold['delay_ms_mean']} / {hold['delay_ms_p99']} / {hold['delay_ms_max']} ms",
            "",
            "",
        )


def main(argv: Sequence[str] | None = None) -> int:
    return run_standalone("redactor", measure, rows, argv)


if __name__ == "__main__":
    raise SystemExit(main())
