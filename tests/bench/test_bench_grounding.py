"""The grounding benchmark scenario reports its figures (never judged here: no timing asserts)."""

from __future__ import annotations

import math

from evals.bench.cli import SCENARIO_NAMES
from evals.bench.grounding import corpus, measure, measure_holdback
from evals.bench.profile import SMOKE
from evals.bench.runner import SCENARIOS


def test_smoke_profile_reports_cost_per_token_and_holdback() -> None:
    """Every case has a finite cost per token beside the pass-through, the redactor and both."""
    result = measure(SMOKE)
    assert set(result["cost"]) == {"en", "zh", "en_opening", "zh_opening"} | {
        "en_unfaithful",
        "zh_unfaithful",
    }
    for case in result["cost"].values():
        assert case["chunks_per_round"] > 0
        assert math.isfinite(case["grounding_us_per_token"]) and case["grounding_us_per_token"] > 0
        assert case["index_build_us_per_request"] > 0
    assert set(result["holdback"]) == {"en_opening", "zh_opening"}


def test_answers_opening_without_a_claim_release_their_first_token_at_once() -> None:
    """No answer that opens without a claim waits for a later chunk before its first text."""
    answers = corpus()
    for name in ("en_opening", "zh_opening"):
        assert measure_holdback(answers[name])["first_token_delay_ms_max"] == 0


def test_grounding_is_a_bench_scenario() -> None:
    """``beacon bench grounding`` runs the scenario."""
    assert "grounding" in SCENARIO_NAMES and "grounding" in SCENARIOS
