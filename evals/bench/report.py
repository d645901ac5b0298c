"""The benchmark's Markdown table: one row per figure, with its target and whether it is met."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from evals.bench import grounding, redactor, redos, replicas

Row = tuple[str, str, str, str, str]


def _verdict(value: float | None, target: float, *, at_most: bool) -> str:
    if value is None:
        return "n/a"
    return "yes" if (value <= target if at_most else value >= target) else "no"


def overhead_rows(result: dict[str, Any]) -> Iterator[Row]:
    for case_name, cpu_ms in result.get("server_cpu_per_request_ms", {}).items():
        target = "≤ 1.5 ms" if case_name == "faq" else ""
        met = _verdict(cpu_ms, 1.5, at_most=True) if case_name == "faq" else ""
        yield ("overhead", f"{case_name} server CPU per request", f"{cpu_ms} ms", target, met)
    for label, case in result["cases"].items():
        ttft, total = case["added_ttft"], case["added_total"]
        yield (
            "overhead",
            f"{label} added TTFT p50",
            f"{ttft['p50_ms']} ms",
            "≤ 2 ms",
            _verdict(ttft["p50_ms"], 2.0, at_most=True),
        )
        yield (
            "overhead",
            f"{label} added TTFT p99",
            f"{ttft['p99_ms']} ms",
            "≤ 5 ms",
            _verdict(ttft["p99_ms"], 5.0, at_most=True),
        )
        yield (
            "overhead",
            f"{label} added total p50 / p99",
            f"{total['p50_ms']} / {total['p99_ms']} ms",
            "",
            "",
        )


def streams_rows(result: dict[str, Any]) -> Iterator[Row]:
    for case in result["cases"]:
        n = case["streams"]
        share = case["stall_free_share"]
        target = "1.0 (N ≤ 128)" if n <= 128 else ""
        met = _verdict(share, 1.0, at_most=False) if n <= 128 else ""
        direct = case["direct_stall_free_share"]
        yield (
            "streams",
            f"{n} streams stall-free share (direct: {direct})",
            f"{share}",
            target,
            met,
        )
        if "late_share" in case:
            late, stalled = case["late_share"], case["stalled_share"]
            met_late = _verdict(late, 0.0, at_most=True) if n <= 128 else ""
            met_stalled = _verdict(stalled, 0.0, at_most=True) if n <= 128 else ""
            yield (
                "streams",
                f"{n} streams late (> 50 ms after upstream)",
                f"{late}",
                "0",
                met_late,
            )
            yield (
                "streams",
                f"{n} streams stalled (gap > upstream + 50 ms)",
                f"{stalled}",
                "0",
                met_stalled,
            )
            added = case["added_ttft_p50_ms"]
            yield (
                "streams",
                f"{n} streams added TTFT p50",
                f"{added} ms",
                "≤ 2 ms",
                _verdict(added, 2.0, at_most=True),
            )
        cpu, share = case["cpu_per_token_us"], case.get("server_cpu_share")
        yield (
            "streams",
            f"{n} streams server CPU per token (Beacon had {share} of its core)",
            f"{cpu} µs",
            "≤ 50 µs",
            _verdict(cpu, 50.0, at_most=True),
        )


def throughput_rows(result: dict[str, Any]) -> Iterator[Row]:
    targets = {"cache_off": 500.0, "cache_on": 1500.0}
    for name, case in result["cases"].items():
        rps = case["requests_per_s"]
        label = f"FAQ JSON {name.replace('_', ' ')} (p99 {case['latency']['p99_ms']} ms)"
        yield (
            "throughput",
            label,
            f"{rps} req/s",
            f"≥ {targets[name]:.0f} req/s",
            _verdict(rps, targets[name], at_most=False),
        )
        share, capacity = case["server_cpu_share"], case["cpu_bound_requests_per_s"]
        yield (
            "throughput",
            f"FAQ JSON {name.replace('_', ' ')}: CPU per request (Beacon had {share} of its core)",
            f"{case['cpu_per_request_us']} µs = {capacity} req/s per full core",
            f"≥ {targets[name]:.0f} req/s",
            _verdict(capacity, targets[name], at_most=False),
        )


def retrieval_rows(result: dict[str, Any]) -> Iterator[Row]:
    for case in result["cases"]:
        search = case["search"]
        label = f"{case['embeddings']} {case['rows']} rows p50 / p99"
        value = f"{search['p50_ms']} / {search['p99_ms']} ms"
        is_target = case["embeddings"] == "hashing" and 5_000 <= case["rows"] <= 20_000
        target, met = (
            ("p99 ≤ 5 ms", _verdict(search["p99_ms"], 5.0, at_most=True)) if is_target else ("", "")
        )
        yield ("retrieval", label, value, target, met)
    for note in result.get("notes", []):
        yield ("retrieval", note, "", "", "")


def observability_rows(result: dict[str, Any]) -> Iterator[Row]:
    ratio = result["ratio_on_to_off"]
    value = f"{ratio} ({result['requests_per_s_on']} vs {result['requests_per_s_off']} req/s)"
    yield (
        "observability",
        "throughput on / off",
        value,
        "≥ 0.75",
        _verdict(ratio, 0.75, at_most=False),
    )


def clients_rows(result: dict[str, Any]) -> Iterator[Row]:
    for client, case in result["cases"].items():
        label = f"{client} client CPU per token ({case['streams']} streams at 50 tokens/s)"
        yield ("clients", label, f"{case['cpu_per_token_us']} µs", "", "")


def state_rows(result: dict[str, Any]) -> Iterator[Row]:
    for backend in ("in_process", "redis"):
        case = result[backend]
        label = f"{backend} state per request p50 / p99 ({case['requests']} requests)"
        yield ("state", label, f"{case['p50_us']} / {case['p99_us']} µs", "", "")
    ratio, added = result["redis_over_in_process_p50"], result["redis_added_p50_us"]
    yield ("state", "redis / in-process (p50)", f"{ratio}x (+{added} µs)", "", "")


ROWS = {
    "overhead": overhead_rows,
    "streams": streams_rows,
    "throughput": throughput_rows,
    "retrieval": retrieval_rows,
    "observability": observability_rows,
    "redactor": redactor.rows,
    "redos": redos.rows,
    "grounding": grounding.rows,
    "clients": clients_rows,
    "state": state_rows,
    "replicas": replicas.rows,
}


def markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['cores']} cores, Python {machine['python']}, "
        f"{machine['system']}; load average before/after: {machine['loadavg_before']} / "
        f"{machine['loadavg_after']}. Profile: {report['profile']}.",
        "",
        "| scenario | measure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for name, result in report["scenarios"].items():
        lines += ["| " + " | ".join(row) + " |" for row in ROWS[name](result)]
    return "\n".join(lines) + "\n"
