"""``beacon bench --profile smoke``: every scenario runs end to end with real processes.

A seconds-long profile: the figures are not judged here (no timing assertions), only that each
scenario produced its report, finite and positive where a number is expected.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from evals.bench.cli import SCENARIO_NAMES
from evals.upstream.process import child_environment


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    command = [
        sys.executable,
        "-m",
        "service.cli",
        "bench",
        "--profile",
        "smoke",
        "--json",
        str(path),
    ]
    done = subprocess.run(
        command, capture_output=True, env=child_environment(), timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result: dict[str, Any] = orjson.loads(Path(path).read_bytes())
    result["stdout"] = done.stdout.decode()
    return result


def positive(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_every_scenario_reports_with_the_machine_and_a_table(report: dict[str, Any]) -> None:
    """The report names the machine, holds every scenario, and prints a Markdown table."""
    machine = report["machine"]
    assert machine["cpu_model"] and machine["cores"] >= 1 and machine["python"]
    assert list(report["scenarios"]) == list(SCENARIO_NAMES)
    assert report["stdout"] == report["table"]
    assert "| scenario | measure | value | target | met |" in report["table"]
    assert all(f"| {name} |" in report["table"] for name in SCENARIO_NAMES)


def test_overhead_compares_beacon_with_the_direct_call(report: dict[str, Any]) -> None:
    """Each case has Beacon's TTFT and total; the openai cases also the direct baseline."""
    cases = report["scenarios"]["overhead"]["cases"]
    assert {"faq/zh", "faq/en", "openai-direct/zh", "openai-direct/en"} <= set(cases)
    for label, case in cases.items():
        assert case["errors"] == 0, label
        assert positive(case["beacon_ttft"]["p50_ms"]) and positive(case["beacon_total"]["p99_ms"])
        assert math.isfinite(case["added_ttft"]["p50_ms"]), label
        if label.startswith("openai"):
            assert positive(case["direct_ttft"]["p50_ms"]), label


def test_streams_report_stall_share_and_cpu_per_token(report: dict[str, Any]) -> None:
    """Each stream count has a stall-free share in [0, 1] and a positive CPU per token."""
    for case in report["scenarios"]["streams"]["cases"]:
        assert 0 <= case["stall_free_share"] <= 1 and 0 <= case["direct_stall_free_share"] <= 1
        assert case["tokens"] > 0 and positive(case["cpu_per_token_us"])


def test_throughput_reports_cache_off_and_on(report: dict[str, Any]) -> None:
    """Both cache settings completed requests at a positive rate with latency percentiles."""
    cases = report["scenarios"]["throughput"]["cases"]
    assert set(cases) == {"cache_off", "cache_on"}
    for case in cases.values():
        assert case["errors"] == 0 and positive(case["requests_per_s"])
        assert positive(case["latency"]["p99_ms"]) and positive(case["cpu_per_request_us"])
        assert positive(case["cpu_bound_requests_per_s"]) and 0 < case["server_cpu_share"] <= 1.5


def test_retrieval_reports_search_latency_per_size(report: dict[str, Any]) -> None:
    """The hashing embeddings were measured; a skipped backend is named in the notes."""
    result = report["scenarios"]["retrieval"]
    assert any(case["embeddings"] == "hashing" for case in result["cases"])
    for case in result["cases"]:
        assert case["rows"] > 0 and positive(case["search"]["p99_ms"])
    assert any(note.startswith("minilm") for note in result["notes"]) or any(
        case["embeddings"] == "minilm" for case in result["cases"]
    )


def test_observability_reports_the_on_off_ratio(report: dict[str, Any]) -> None:
    """Throughput with the signals on and off, and their ratio, are positive."""
    result = report["scenarios"]["observability"]
    assert positive(result["requests_per_s_on"]) and positive(result["requests_per_s_off"])
    assert positive(result["ratio_on_to_off"])


def test_clients_report_cpu_per_token_for_both(report: dict[str, Any]) -> None:
    """The direct and the langchain client each streamed tokens at a positive CPU cost."""
    cases = report["scenarios"]["clients"]["cases"]
    assert set(cases) == {"direct", "langchain"}
    for case in cases.values():
        assert case["tokens"] > 0 and positive(case["cpu_per_token_us"])


def test_replicas_compare_one_and_two_on_redis_with_in_process(report: dict[str, Any]) -> None:
    """In-process, one replica on Redis and two on the same Redis all answered without errors;
    the ratios are the rates divided, and each replica's core and Redis's CPU are reported."""
    result = report["scenarios"]["replicas"]
    cases, rates = result["cases"], result["requests_per_s"]
    assert set(cases) == set(rates) == {"in_process", "redis_1_replica", "redis_2_replicas"}
    for name, case in cases.items():
        assert case["errors"] == 0 and positive(case["requests_per_s"]), name
        assert case["requests_per_s"] == rates[name]
        assert positive(case["cpu_per_request_us"]) and positive(case["latency"]["p99_ms"])
    for name in ("redis_1_replica", "redis_2_replicas"):  # Redis did work for these, only
        assert cases[name]["redis_commands_per_request"] >= 1, name
        assert cases[name]["redis_cpu_per_request_us"] >= 0, name  # 10 ms ticks: may read 0
    assert "redis_cpu_per_request_us" not in cases["in_process"]
    assert "redis_commands_per_request" not in cases["in_process"]
    assert all(
        positive(seconds) for seconds in cases["redis_2_replicas"]["server_cpu_s_per_replica"]
    )
    one, two, base = rates["redis_1_replica"], rates["redis_2_replicas"], rates["in_process"]
    assert result["redis_1_over_in_process"] == round(one / base, 3)
    assert result["redis_2_over_redis_1"] == round(two / one, 3)
    assert result["redis_2_over_in_process"] == round(two / base, 3)
    assert len(result["replica_cores"]) == 2 and result["replica_cores"][0] == 0
    assert len(result["runs"]["redis_2_replicas"]) == result["rounds"] >= 1
    assert "2 replicas on one Redis" in report["table"]
