"""The Markdown report: verdict, figures against the baseline, route mix, worst cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evals.harness.reports.formatting import fmt, metric_rows, verdict


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render ``report`` as Markdown for a PR comment or a chat message."""
    suite, run = report["suite"], report["run"]
    lines = [
        f"## Beacon eval `{suite['name']}`: {verdict(report)}",
        "",
        f"{len(report['cases'])} cases × {run['repeats']} against {run['target']} "
        f"({run['embeddings']} embeddings), {run['started_at']}, {run['seconds']} s.",
        "",
        "| metric | value | baseline | worst allowed | |",
        "|---|---:|---:|---:|---|",
    ]
    for row in metric_rows(report):
        value, base, limit = (fmt(row[key], row["name"]) for key in ("value", "baseline", "limit"))
        lines.append(f"| {row['label']} | {value} | {base} | {limit} | {row['status']} |")
    lines += ["", *_gate_lines(report), *_route_lines(report), *_faithfulness_lines(report)]
    lines += _worst_lines(report)
    return "\n".join(lines) + "\n"


def _gate_lines(report: Mapping[str, Any]) -> list[str]:
    gate = report["gate"]
    if gate is None:
        return ["No baseline compared.", ""]
    lines = [f"Baseline: `{gate['baseline']}`.", ""]
    traces = {record["id"]: record["trace_ids"] for record in report["cases"]}
    if gate["regressed_cases"]:
        lines.append(f"**Regressed cases ({len(gate['regressed_cases'])})**, failing every repeat:")
        lines += [f"- `{c}` trace `{traces[c][0]}`" for c in gate["regressed_cases"][:50]]
        lines.append("")
    if gate["flaky_cases"]:
        lines.append(f"Flaky cases ({len(gate['flaky_cases'])}), not counted as regressions:")
        lines.append(", ".join(f"`{c}`" for c in gate["flaky_cases"][:50]))
        lines.append("")
    if gate["fixed_cases"]:
        lines.append(f"Fixed since the baseline: {len(gate['fixed_cases'])} cases.")
        lines.append("")
    return lines


def _route_lines(report: Mapping[str, Any]) -> list[str]:
    lines = [
        "### Routes",
        "",
        "| route | share | tokens in/1k | tokens out/1k | cost/1k req | TTFT p50 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, row in report["routes"].items():
        ttft = fmt(row["ttft_p50_ms"])
        lines.append(
            f"| {route} | {row['share']:.1%} | {row['tokens_in_per_1k']} "
            f"| {row['tokens_out_per_1k']} | ${row['cost_usd_per_1k']} | {ttft} |"
        )
    cost = report["cost"]
    lines += [
        "",
        f"Projected model cost at {cost['requests_per_day']:,} requests/day: "
        f"${cost['projected_daily_usd']}/day, ${cost['projected_monthly_usd']}/month.",
        "",
    ]
    return lines


def _faithfulness_lines(report: Mapping[str, Any]) -> list[str]:
    section = report.get("faithfulness") or {}
    if not section:
        return []
    lines = [
        "### Faithfulness",
        "",
        f"{section['checked_answers']} answers checked against their cited evidence "
        f"({section['unchecked_answers']} not checkable), "
        f"{section['unfaithful_answers']} with an unsupported claim.",
    ]
    if "injected_unfaithful_share" in section:
        lines.append(
            f"Injected by the simulator: {section['injected_unfaithful_share']:.1%}; "
            f"measured: {section['measured_unfaithful_share']:.1%}."
        )
    lines.append("")
    if section["worst"]:
        lines += ["| case | unsupported claims | cited | trace_id |", "|---|---|---|---|"]
        for item in section["worst"]:
            claims = "; ".join(item["unsupported"]).replace("|", "\\|")
            lines.append(
                f"| `{item['id']}` | {claims} | {', '.join(item['cited'])} | `{item['trace_id']}` |"
            )
        lines.append("")
    return lines


def _worst_lines(report: Mapping[str, Any]) -> list[str]:
    worst = report["worst_cases"]
    if not worst:
        return ["No failing cases."]
    lines = [
        "### Worst cases",
        "",
        "| case | status | question | expected | got (route, top 3) | score | failed | trace_id |",
        "|---|---|---|---|---|---:|---|---|",
    ]
    for case in worst:
        question = case["question"].replace("|", "\\|").replace("\n", " ")[:80]
        got = f"{case['route'] or case['error']}: {', '.join(case['got'])}"
        expected = ", ".join(map(str, case["expected"]))
        lines.append(
            f"| `{case['id']}` | {case['status']} | {question} | {expected} "
            f"| {got} | {fmt(case['top_score'])} | {', '.join(case['failed_checks'])} "
            f"| `{case['trace_id']}` |"
        )
    return lines
