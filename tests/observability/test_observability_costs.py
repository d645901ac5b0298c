"""The per-part cost script runs and reports a positive figure for every part."""

from __future__ import annotations

import pytest

from evals import observability_costs


def test_costs_script_prints_every_part(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tiny run prints one positive CPU figure per observability part."""
    monkeypatch.setattr(observability_costs, "ROUNDS", 1)
    monkeypatch.setattr(observability_costs, "LOOPS", 20)
    assert observability_costs.main() == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 7
    assert all(float(row.split()[-5]) > 0 for row in rows)
