"""``grounding``: what the streaming grounding filter costs per token, and what it holds back.

The answers are the demo KB's (English and Chinese, each checked against its own entry), the same
answers behind a claim-free opening as a model would write them, and wrong-on-purpose answers
from the upstream simulator's unfaithful mode (every one corrupted, so the replacement path
runs). Chunks are the simulator tokenizer's. Cost: CPU per chunk of ``feed`` + ``flush`` with a
fresh filter per answer, beside a no-op pass-through and beside the redactor alone and the two
composed (redactor, then grounding: the per-token hot path); building the evidence index, once
per request, is reported apart. Hold-back: characters held after each chunk and each
character's delay at 50 tokens/s; the first-token delay of answers that open without a claim.

A pure-CPU scenario (no processes): ``python -m evals.bench.grounding [--json PATH]``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from evals.bench.profile import Profile
from evals.bench.redactor import PassThrough
from evals.bench.standalone import run_standalone
from evals.bench.summary import percentile
from evals.upstream.tokens import split_tokens
from evals.upstream.unfaithful import corrupt
from rag.knowledge import load_knowledge_base
from service.grounding.check import EvidenceIndex, index_evidence
from service.grounding.stream import GroundingFilter
from service.pipeline.redact import RedactionPolicy, StreamRedactor, load_redaction_policy
from service.settings import DEFAULT_KB_DIR

TOKENS_PER_SECOND = 50.0
ROUNDS = {"full": 100, "smoke": 2}
OPENINGS = {
    "en": "Thanks for asking! Here is what our help centre says: ",
    "zh": "感谢咨询！帮助中心的说明如下：",
}


@dataclass(frozen=True, slots=True)
class Answer:
    chunks: list[str]
    evidence: tuple[str, ...]
    lang: str


def corpus() -> dict[str, list[Answer]]:
    """Answers per case, each with its evidence and the chunks a model would stream."""
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    cases: dict[str, list[Answer]] = {}
    for lang in ("en", "zh"):
        verbatim, opened, wrong = [], [], []
        for number, entry in enumerate(kb):
            text, evidence = entry.answer_in(lang), tuple(entry.answer.values())
            verbatim.append(Answer(split_tokens(text), evidence, lang))
            opened.append(Answer(split_tokens(OPENINGS[lang] + text), evidence, lang))
            seed = number * 2**32 + number
            bad = corrupt(text, evidence=text, seed=seed, rate=1.0, chinese=lang == "zh")
            wrong.append(Answer(split_tokens(bad.sentence), evidence, lang))
        cases |= {lang: verbatim, f"{lang}_opening": opened, f"{lang}_unfaithful": wrong}
    return cases


Stage = Callable[[Answer, EvidenceIndex], list[Any]]


def _grounding(answer: Answer, index: EvidenceIndex) -> list[Any]:
    return [GroundingFilter(index, lang=answer.lang, title="entry")]


def _redactor(policy: RedactionPolicy) -> Stage:
    return lambda answer, _: [StreamRedactor(policy, lang=answer.lang)]


def _composed(policy: RedactionPolicy) -> Stage:
    return lambda answer, index: [*_redactor(policy)(answer, index), *_grounding(answer, index)]


def cost_per_chunk_us(
    stage: Stage, answers: Sequence[Answer], indexes: list[EvidenceIndex]
) -> float:
    """CPU time per chunk of streaming every answer through fresh filters, in order."""
    chunks = sum(len(answer.chunks) for answer in answers)
    started = time.process_time_ns()
    for answer, index in zip(answers, indexes, strict=True):
        filters = stage(answer, index)
        for chunk in answer.chunks:
            for each in filters:
                chunk = each.feed(chunk)
        tail = ""
        for each in filters:
            tail = each.feed(tail) + each.flush()
    return (time.process_time_ns() - started) / chunks / 1000


def measure_cost(answers: Sequence[Answer], rounds: int, policy: RedactionPolicy) -> dict[str, Any]:
    """Median per-chunk cost of each stage, rounds interleaved, and the index build per answer."""
    stages: dict[str, Stage] = {
        "passthrough": lambda _a, _i: [PassThrough()],
        "grounding": _grounding,
        "redactor": _redactor(policy),
        "redactor_then_grounding": _composed(policy),
    }
    samples: dict[str, list[float]] = {name: [] for name in stages}
    builds: list[float] = []
    gc.disable()
    try:
        for _ in range(rounds):
            started = time.process_time_ns()
            indexes = [index_evidence(answer.evidence) for answer in answers]
            builds.append((time.process_time_ns() - started) / len(answers) / 1000)
            for name, stage in stages.items():
                samples[name].append(cost_per_chunk_us(stage, answers, indexes))
    finally:
        gc.enable()
    figures = {f"{name}_us_per_token": round(median(values), 3) for name, values in samples.items()}
    figures["grounding_p90_us_per_token"] = round(percentile(samples["grounding"], 90), 3)
    figures["grounding_added_us_per_token"] = round(
        figures["grounding_us_per_token"] - figures["passthrough_us_per_token"], 3
    )
    figures["index_build_us_per_request"] = round(median(builds), 1)
    figures["chunks_per_round"] = sum(len(answer.chunks) for answer in answers)
    return figures


def measure_holdback(answers: Sequence[Answer]) -> dict[str, float]:
    """Characters held after each chunk, each character's delay and the first-token delay."""
    held: list[int] = []
    delays: list[int] = []
    first: list[int] = []
    for answer in answers:
        grounding = GroundingFilter(index_evidence(answer.evidence), lang=answer.lang)
        arrived: list[int] = []
        released: list[int] = []
        for i, chunk in enumerate(answer.chunks):
            arrived += [i] * len(chunk)
            released += [i] * len(grounding.feed(chunk))
            held.append(len(arrived) - len(released))
        released += [len(answer.chunks) - 1] * len(grounding.flush())
        if len(released) != len(arrived) or grounding.findings:
            raise ValueError("a supported answer changed: hold-back is measured on those only")
        delays += [out - came for came, out in zip(arrived, released, strict=True)]
        first.append(released[0] if released else 0)
    ms = 1000 / TOKENS_PER_SECOND
    return {
        "held_chars_mean": round(sum(held) / len(held), 2),
        "held_chars_p99": round(percentile(held, 99), 1),
        "delayed_char_share": round(sum(d > 0 for d in delays) / len(delays), 4),
        "delay_ms_mean": round(sum(delays) / len(delays) * ms, 2),
        "delay_ms_p99": round(percentile(delays, 99) * ms, 1),
        "first_token_delay_ms_mean": round(sum(first) / len(first) * ms, 2),
        "first_token_delay_ms_max": round(max(first) * ms, 1),
    }


def measure(profile: Profile) -> dict[str, Any]:
    rounds = ROUNDS.get(profile.name, ROUNDS["smoke"])
    answers = corpus()
    policy = load_redaction_policy()
    cost = {name: measure_cost(items, rounds, policy) for name, items in answers.items()}
    holdback = {name: measure_holdback(answers[name]) for name in ("en_opening", "zh_opening")}
    return {
        "rounds": rounds,
        "tokens_per_second": TOKENS_PER_SECOND,
        "budget_us_per_token": 50.0,
        "cost": cost,
        "holdback": holdback,
    }


def run(_: object, profile: Profile) -> dict[str, Any]:
    """The ``beacon bench`` entry (the fleet is not needed: no processes)."""
    return measure(profile)


def rows(result: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """Rows for ``beacon bench``'s Markdown table."""
    for name, case in result["cost"].items():
        yield (
            "grounding",
            f"{name} CPU per token (pass-through {case['passthrough_us_per_token']} µs; "
            f"redactor {case['redactor_us_per_token']} µs, both "
            f"{case['redactor_then_grounding_us_per_token']} µs; index "
            f"{case['index_build_us_per_request']} µs/request)",
            f"{case['grounding_us_per_token']} µs",
            f"≤ {result['budget_us_per_token']:.0f} µs",
            "ok" if case["redactor_then_grounding_us_per_token"] <= 50 else "over",
        )
    for name, hold in result["holdback"].items():
        yield (
            "grounding",
            f"{name} hold-back at {result['tokens_per_second']:.0f} tokens/s (mean / p99; "
            "first-token delay mean / max)",
            f"{hold['held_chars_mean']} / {hold['held_chars_p99']} chars; "
            f"{hold['first_token_delay_ms_mean']} / {hold['first_token_delay_ms_max']} ms",
            "0 ms first-token delay",
            "ok" if hold["first_token_delay_ms_max"] == 0 else "over",
        )


def main(argv: Sequence[str] | None = None) -> int:
    return run_standalone("grounding", measure, rows, argv)


if __name__ == "__main__":
    raise SystemExit(main())
