"""``beacon eval run`` end to end: real ``beacon serve`` processes, real HTTP, real reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from evals.harness.evaluation import EvalOptions, run_eval
from service.cli import main
from tests.conftest import AppHandle

pytestmark = pytest.mark.slow

# Retrieval made deliberately worse: dense similarity alone, one candidate.
WORSENED = {
    "BEACON_RETRIEVAL__FUSION__DENSE": "1",
    "BEACON_RETRIEVAL__FUSION__LEXICAL": "0",
    "BEACON_RETRIEVAL__FUSION__MATCHER": "0",
    "BEACON_RETRIEVAL__TOP_K": "1",
}


def _report(directory: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return report


def test_smoke_suite_passes_its_committed_baseline(tmp_path: Path) -> None:
    """The smoke suite, twice per case, gates green and every result keeps a logged trace_id."""
    reports = tmp_path / "reports"
    argv = ["eval", "run", "--suite", "smoke", "--repeats", "2", "--report", str(reports)]
    assert main([*argv, "--work-dir", str(tmp_path / "work"), "--no-progress"]) == 0
    report = _report(reports)
    assert report["gate"]["passed"] and report["gate"]["regressed_cases"] == []
    assert report["metrics"]["consistency"] == 1.0
    assert {"faq", "out_of_scope", "risky"} <= set(report["routes"])
    log = (reports / "server.log").read_text(encoding="utf-8")
    for case in report["cases"]:
        assert len(set(case["trace_ids"])) == 2
        for trace_id in case["trace_ids"]:
            assert f'"trace_id":"{trace_id}"' in log.replace(" ", "")
    for name in ("report.md", "report.html", "junit.xml"):
        assert (reports / name).stat().st_size > 0


def test_worsened_retrieval_fails_the_gate_and_names_the_regressed_cases(tmp_path: Path) -> None:
    """With the matcher and lexical signal switched off, the gate exits 1 and names the cases."""
    outcome = run_eval(
        EvalOptions(
            suite="smoke",
            report_dir=tmp_path / "reports",
            work_dir=tmp_path / "work",
            server_env=WORSENED,
            show_progress=False,
        )
    )
    assert outcome.exit_code == 1
    gate = outcome.report["gate"]
    assert gate["regressed_cases"] and not gate["passed"]
    assert "top3_hit_rate" in {item["name"] for item in gate["regressed_metrics"]}
    markdown = outcome.paths["markdown"].read_text(encoding="utf-8")
    junit = ET.parse(outcome.paths["junit"]).getroot()
    failed = {
        case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None
    }
    for case_id in gate["regressed_cases"]:
        assert f"`{case_id}`" in markdown and case_id in failed


def test_live_target_is_evaluated_over_its_url(beacon: AppHandle, tmp_path: Path) -> None:
    """``--target URL`` evaluates a running Beacon instead of starting one."""
    outcome = run_eval(
        EvalOptions(suite="smoke", target=beacon.url, report_dir=tmp_path, show_progress=False)
    )
    assert outcome.exit_code == 0
    assert outcome.report["run"]["target"] == beacon.url
    asked = beacon.metric("beacon_requests_total", route="faq", outcome="ok")
    assert asked >= outcome.report["routes"]["faq"]["requests"]


@pytest.mark.parametrize(("suite", "sample"), [("bitext", 30), ("banking77_heldout", 40)])
def test_dataset_suites_run_on_a_sample(
    suite: str, sample: int, tmp_path: Path, report_check: Callable[[Path], None]
) -> None:
    """A fixed sample of each dataset suite runs end to end (the full runs are nightly)."""
    reports = tmp_path / "reports"
    argv = ["eval", "run", "--suite", suite, "--sample", str(sample), "--report", str(reports)]
    assert main([*argv, "--work-dir", str(tmp_path / "work"), "--no-progress"]) == 0
    report_check(reports)
    report = _report(reports)
    assert len(report["cases"]) == sample
    assert report["metrics"]["top1_hit_rate"] is not None


@pytest.fixture
def report_check() -> Callable[[Path], None]:
    def check(directory: Path) -> None:
        html = (directory / "report.html").read_text(encoding="utf-8")
        assert "<svg" in html and "<script" not in html and 'src="http' not in html
        ET.parse(directory / "junit.xml")

    return check
