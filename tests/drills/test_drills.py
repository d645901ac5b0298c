"""`beacon drill run` passes every drill, and its reconciliation comes out exact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from evals.drills.catalog import catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_drill_passes_with_nothing_lost(tmp_path: Path) -> None:
    """The catalog runs on real processes: every drill passes and reconciles with no difference."""
    report = tmp_path / "drills.json"
    finished = subprocess.run(
        [sys.executable, "-m", "service.cli", "drill", "run", "--json", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(finished.stdout)  # the drill table, for the test log
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    results = orjson.loads(report.read_bytes())
    drills = results["drills"]
    assert results["passed"] and len(drills) == len(catalog()) >= 14
    for drill in drills:
        assert drill["verdict"] == "pass", drill["failures"]
        assert drill["reconciliation"]["exact"], drill["reconciliation"]["differences"]
    mixed = next(drill for drill in drills if drill["drill"] == "mixed_burst")
    assert mixed["requests"] == 500 and mixed["reconciliation"]["accepted"] == 500
    assert "terminal events" in finished.stdout and "verdict" in finished.stdout
