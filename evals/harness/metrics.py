"""Suite-level figures from graded attempts: quality, refusal, latency, tokens and cost by route.

Rates are over attempts (every repeat counts) among the cases a rate applies to, and are None
when no case applies (a suite without out-of-scope questions has no refusal recall):

- ``top1_hit_rate`` / ``top3_hit_rate``: an expected entry is the best / among the best three
  retrieved entries (the ``retrieved`` list of the ``evidence`` event);
- ``refusal_precision`` / ``refusal_recall``: refusals that were right / expected refusals made;
- ``answer_precision``: answered questions whose first citation is right (answering a question
  that should be refused counts as wrong; a clarifying question is not an answer);
- ``answered_right_rate`` / ``answered_wrong_rate`` / ``clarification_rate`` /
  ``refused_rate``: how attempts ended, as shares of the attempts that name an expected entry
  or a refusal (answered from an
  expected entry, answered from any other entry or when a refusal was due, asked which question
  was meant, refused);
- ``clarification_precision``: clarifying questions whose suggestions hold an expected entry;
- ``follow_up_resolution``: turns 2 and later of a conversation (with an expected entry) whose
  first citation is an expected entry;
- ``route_accuracy``, ``citation_correctness``, ``must_include_pass_rate``,
  ``must_not_include_pass_rate``, ``error_rate``, ``pass_rate`` (every check passed);
- ``consistency``: cases whose repeats agree on verdict, route and best entry;
- ``faithfulness``: checked answers whose every claim the cited evidence supports, and
  ``unsupported_claims_per_1k_answers`` (see :mod:`evals.harness.faithfulness`);
- client-side ``ttft_*_ms`` and ``latency_*_ms`` percentiles.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from evals.harness.cases import Case
from evals.harness.client import Observation
from evals.harness.faithfulness import summarise_faithfulness
from evals.harness.grading import CaseResult, Checks, flatten

Attempt = tuple[Case, Observation, Checks]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (nearest rank) of ``values``, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def _rate(attempts: Iterable[Attempt], check: str) -> float | None:
    outcomes = [checks[check] for _, _, checks in attempts if check in checks]
    return _share(outcomes)


def _share(outcomes: Sequence[bool]) -> float | None:
    return round(sum(outcomes) / len(outcomes), 4) if outcomes else None


def _top3(attempts: Sequence[Attempt]) -> float | None:
    outcomes = [
        any(entry in case.expected_entries for entry in seen.top_ids(3))
        for case, seen, _ in attempts
        if case.expected_entries
    ]
    return _share(outcomes)


def _refusal(attempts: Sequence[Attempt]) -> dict[str, float | None]:
    refused = [case.expects_refusal for case, seen, _ in attempts if seen.refused]
    expected = [seen.refused for case, seen, _ in attempts if case.expects_refusal]
    return {"refusal_precision": _share(refused), "refusal_recall": _share(expected)}


def _answer_precision(attempts: Sequence[Attempt]) -> float | None:
    right = []
    for case, seen, _ in attempts:
        if seen.refused or seen.clarified or seen.error:
            continue
        if not (case.expected_entries or case.expects_refusal):
            continue
        first = [entry for entry, _ in seen.citations[:1]] or seen.top_ids(1)
        right.append(bool(first) and first[0] in case.expected_entries)
    return _share(right)


def _outcomes(attempts: Sequence[Attempt]) -> dict[str, float | None]:
    ended: list[str] = []
    for case, seen, _ in attempts:
        if not (case.expected_entries or case.expects_refusal):
            continue  # a handoff case names no entry: neither right nor wrong
        if seen.error:
            ended.append("error")
        elif seen.refused or seen.clarified:
            ended.append("refused" if seen.refused else "clarified")
        else:
            first = [entry for entry, _ in seen.citations[:1]] or seen.top_ids(1)
            right = bool(first) and first[0] in case.expected_entries
            ended.append("right" if right else "wrong")
    clarified = [
        any(entry in case.expected_entries for entry in seen.suggestions)
        for case, seen, _ in attempts
        if seen.clarified and case.expected_entries
    ]
    return {
        "answered_right_rate": _share([end == "right" for end in ended]),
        "answered_wrong_rate": _share([end == "wrong" for end in ended]),
        "clarification_rate": _share([end == "clarified" for end in ended]),
        "refused_rate": _share([end == "refused" for end in ended]),
        "clarification_precision": _share(clarified),
    }


def _follow_up_resolution(attempts: Sequence[Attempt]) -> float | None:
    resolved = [
        bool(seen.citations) and seen.citations[0][0] in case.expected_entries
        for case, seen, _ in attempts
        if case.conversation is not None and case.turn >= 2 and case.expected_entries
    ]
    return _share(resolved)


def _latencies(attempts: Sequence[Attempt]) -> dict[str, float | None]:
    ttft = [seen.ttft_ms for _, seen, _ in attempts if seen.ttft_ms is not None]
    latency = [seen.latency_ms for _, seen, _ in attempts if seen.error is None]
    return {
        "ttft_p50_ms": percentile(ttft, 50),
        "ttft_p95_ms": percentile(ttft, 95),
        "latency_p50_ms": percentile(latency, 50),
        "latency_p95_ms": percentile(latency, 95),
    }


def summarise(results: Sequence[CaseResult]) -> dict[str, float | None]:
    """The suite's quality and latency figures (the ones the baseline gate compares)."""
    attempts = flatten(results)
    errors = [seen.error is not None for _, seen, _ in attempts]
    return {
        "top1_hit_rate": _rate(attempts, "top1"),
        "top3_hit_rate": _top3(attempts),
        **_refusal(attempts),
        "answer_precision": _answer_precision(attempts),
        **_outcomes(attempts),
        "follow_up_resolution": _follow_up_resolution(attempts),
        "route_accuracy": _rate(attempts, "route"),
        "citation_correctness": _rate(attempts, "citations"),
        "must_include_pass_rate": _rate(attempts, "must_include"),
        "must_not_include_pass_rate": _rate(attempts, "must_not_include"),
        "error_rate": _share(errors),
        "pass_rate": _share([result.passed for result in results]),
        "consistency": _share([result.consistent() for result in results]),
        **summarise_faithfulness(results),
        **_latencies(attempts),
        "cost_usd_per_1k_requests": _per_1k([seen.cost_usd for _, seen, _ in attempts], 6),
    }


def _per_1k(values: Sequence[float], digits: int = 1) -> float:
    return round(sum(values) / len(values) * 1000, digits) if values else 0.0


def route_table(results: Sequence[CaseResult]) -> dict[str, dict[str, Any]]:
    """Route mix with tokens, cost and latency per 1,000 requests of each route."""
    by_route: dict[str, list[Observation]] = defaultdict(list)
    for _, seen, _ in flatten(results):
        by_route[seen.route or "error"].append(seen)
    total = sum(len(items) for items in by_route.values())
    return {
        route: {
            "requests": len(items),
            "share": round(len(items) / total, 4),
            "tokens_in_per_1k": _per_1k([s.tokens_in for s in items]),
            "tokens_out_per_1k": _per_1k([s.tokens_out for s in items]),
            "cost_usd_per_1k": _per_1k([s.cost_usd for s in items], 6),
            "models": sorted({s.model for s in items if s.model}),
            "ttft_p50_ms": percentile([s.ttft_ms for s in items if s.ttft_ms is not None], 50),
            "server_ttft_p50_ms": percentile(
                [s.server_ttft_ms for s in items if s.server_ttft_ms is not None], 50
            ),
            "latency_p95_ms": percentile([s.latency_ms for s in items], 95),
        }
        for route, items in sorted(by_route.items())
    }


def cost_projection(
    routes: dict[str, dict[str, Any]], *, requests_per_day: int
) -> dict[str, float | int]:
    """Daily and monthly model cost at ``requests_per_day`` with this run's route mix."""
    per_1k = sum(row["share"] * row["cost_usd_per_1k"] for row in routes.values())
    daily = per_1k * requests_per_day / 1000
    return {
        "requests_per_day": requests_per_day,
        "cost_usd_per_1k_requests": round(per_1k, 6),
        "projected_daily_usd": round(daily, 4),
        "projected_monthly_usd": round(daily * 30, 2),
    }


def breakdown(
    results: Sequence[CaseResult], key: Callable[[Case], Iterable[str]]
) -> dict[str, dict[str, float | int | None]]:
    """Top-1 hit rate and pass rate for each group ``key`` puts a case in (tags, language)."""
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        for name in key(result.case):
            groups[name].append(result)
    return {
        name: {
            "cases": len(members),
            "top1_hit_rate": _rate(flatten(members), "top1"),
            "pass_rate": _share([member.passed for member in members]),
        }
        for name, members in sorted(groups.items())
    }


def score_samples(results: Sequence[CaseResult]) -> dict[str, list[float]]:
    """Top retrieval scores of hits, of misses, and of questions that should be refused."""
    samples: dict[str, list[float]] = {"hit": [], "miss": [], "should_refuse": []}
    for case, seen, checks in flatten(results):
        if seen.top_score is None:
            continue
        if "top1" in checks:
            samples["hit" if checks["top1"] else "miss"].append(round(seen.top_score, 4))
        elif case.expects_refusal:
            samples["should_refuse"].append(round(seen.top_score, 4))
    return samples
