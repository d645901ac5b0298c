"""The drill table for a terminal, and the JSON record of a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from evals.drills.runner import DrillResult, summary

COLUMNS = ("drill", "requests", "terminal_events", "fallbacks", "p95_ms", "verdict")
HEADERS = ("drill", "requests", "terminal events", "fallbacks", "p95 ms", "verdict")


def render_table(results: Sequence[DrillResult]) -> str:
    rows = [HEADERS, *([_cell(summary(r)[key]) for key in COLUMNS] for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [_line(row, widths) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for result in results:
        lines += [f"  {result.drill.name}: {message}" for message in result.failures[:10]]
    passed = sum(result.passed for result in results)
    lines.append(f"{passed}/{len(results)} drills passed")
    return "\n".join(lines) + "\n"


def to_json(results: Sequence[DrillResult]) -> dict[str, Any]:
    return {
        "passed": all(result.passed for result in results),
        "drills": [_drill_json(result) for result in results],
    }


def _drill_json(result: DrillResult) -> dict[str, Any]:
    run = result.run
    record: dict[str, Any] = {
        **summary(result),
        "summary": result.drill.summary,
        "seconds": round(result.seconds, 2),
        "failures": result.failures,
    }
    if result.reconciliation is not None:
        record["reconciliation"] = result.reconciliation.to_json()
    if run is not None:
        record["settle_ms"] = run.settle_ms
        record["disconnect_close_ms"] = run.disconnect_close_ms
        record["outcomes"] = dict(Counter(line.get("outcome") for line in run.lines()))
        record["terminals"] = dict(
            Counter(r.terminal[0] if r.terminal else "none" for r in run.accepted)
        )
        record["statuses"] = dict(Counter(str(r.status) for r in run.results))
        record["simulator"] = run.simulator
        if run.observed:
            record["observed"] = run.observed
    return record


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
