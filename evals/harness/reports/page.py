"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from evals.harness.reports.formatting import fmt, metric_rows, verdict
from evals.harness.reports.plots import bar_chart, histogram

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;padding:0 1rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:14px}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.REGRESSED,.regressed{color:#b00020;font-weight:bold}
.PASS{color:#1b7f3b}.plots{display:flex;flex-wrap:wrap;gap:1rem}
code{font-size:12px}h1 code{font-size:inherit}
"""


def render_html(report: Mapping[str, Any]) -> str:
    """Render ``report`` as a standalone HTML page."""
    suite, run = report["suite"], report["run"]
    word = verdict(report)
    title = f"Beacon eval {suite['name']}: {word}"
    body = [
        f"<h1>Beacon eval <code>{escape(suite['name'])}</code>: "
        f'<span class="{word.split()[0]}">{word}</span></h1>',
        f"<p>{len(report['cases'])} cases × {run['repeats']} against "
        f"<code>{escape(run['target'])}</code> ({escape(run['embeddings'])} embeddings), "
        f"{escape(run['started_at'])}, {run['seconds']} s. {escape(suite.get('description', ''))}"
        "</p>",
        _metrics_table(report),
        _gate_section(report),
        '<h2>Plots</h2><div class="plots">',
        _route_plot(report),
        histogram(report["scores"], title="Top retrieval score: hits vs misses", low=0, high=1),
        histogram(_latencies(report), title="Latency per request", unit=" ms", bins=25),
        "</div>",
        _routes_table(report),
        _faithfulness_table(report.get("faithfulness") or {}),
        _worst_table(report["worst_cases"]),
    ]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _metrics_table(report: Mapping[str, Any]) -> str:
    rows = [
        [
            escape(row["label"]),
            fmt(row["value"], row["name"]),
            fmt(row["baseline"], row["name"]),
            fmt(row["limit"], row["name"]),
            f'<span class="{row["status"]}">{row["status"]}</span>',
        ]
        for row in metric_rows(report)
    ]
    return "<h2>Figures</h2>" + _table(["metric", "value", "baseline", "worst allowed", ""], rows)


def _gate_section(report: Mapping[str, Any]) -> str:
    gate = report["gate"]
    if gate is None:
        return "<p>No baseline compared.</p>"
    parts = [f"<p>Baseline <code>{escape(gate['baseline'])}</code>.</p>"]
    for key, label in (
        ("regressed_cases", "Regressed cases (failing every repeat)"),
        ("flaky_cases", "Flaky cases (not counted)"),
        ("fixed_cases", "Fixed since the baseline"),
    ):
        if gate[key]:
            ids = ", ".join(f"<code>{escape(c)}</code>" for c in gate[key][:100])
            parts.append(f"<p><b>{label} ({len(gate[key])}):</b> {ids}</p>")
    return "".join(parts)


def _route_plot(report: Mapping[str, Any]) -> str:
    items = [(route, row["share"]) for route, row in report["routes"].items()]
    return bar_chart(items, title="Route mix")


def _latencies(report: Mapping[str, Any]) -> dict[str, list[float]]:
    by_route: dict[str, list[float]] = {}
    for record in report["cases"]:
        for attempt in record["results"]:
            by_route.setdefault(attempt["route"] or "error", []).append(attempt["latency_ms"])
    return by_route


def _routes_table(report: Mapping[str, Any]) -> str:
    rows = [
        [
            escape(route),
            f"{row['share']:.1%}",
            str(row["tokens_in_per_1k"]),
            str(row["tokens_out_per_1k"]),
            f"${row['cost_usd_per_1k']}",
            fmt(row["ttft_p50_ms"]),
            fmt(row["latency_p95_ms"]),
        ]
        for route, row in report["routes"].items()
    ]
    cost = report["cost"]
    headers = ["route", "share", "tokens in/1k", "tokens out/1k", "cost/1k", "TTFT p50", "p95 ms"]
    return (
        "<h2>Routes and cost</h2>"
        + _table(headers, rows)
        + f"<p>Projected model cost at {cost['requests_per_day']:,} requests/day: "
        f"${cost['projected_daily_usd']}/day, ${cost['projected_monthly_usd']}/month.</p>"
    )


def _faithfulness_table(section: Mapping[str, Any]) -> str:
    if not section:
        return ""
    summary = (
        f"<p>{section['checked_answers']} answers checked against their cited evidence "
        f"({section['unchecked_answers']} not checkable), {section['unfaithful_answers']} "
        "with an unsupported claim.</p>"
    )
    rows = [
        [
            f"<code>{escape(item['id'])}</code>",
            escape("; ".join(item["unsupported"])),
            escape(", ".join(item["cited"])),
            escape(item["answer"]),
            f"<code>{escape(item['trace_id'])}</code>",
        ]
        for item in section["worst"]
    ]
    headers = ["case", "unsupported claims", "cited", "answer", "trace_id"]
    return "<h2>Faithfulness</h2>" + summary + (_table(headers, rows) if rows else "")


def _worst_table(worst: Sequence[Mapping[str, Any]]) -> str:
    if not worst:
        return "<h2>Worst cases</h2><p>No failing cases.</p>"
    rows = [
        [
            f"<code>{escape(case['id'])}</code>",
            f'<span class="{case["status"]}">{case["status"]}</span>',
            escape(case["question"]),
            escape(", ".join(map(str, case["expected"]))),
            escape(f"{case['route'] or case['error']}: {', '.join(case['got'])}"),
            fmt(case["top_score"]),
            escape(", ".join(case["failed_checks"])),
            f"<code>{escape(case['trace_id'])}</code>",
        ]
        for case in worst
    ]
    headers = ["case", "status", "question", "expected", "got", "score", "failed", "trace_id"]
    return "<h2>Worst cases</h2>" + _table(headers, rows)
