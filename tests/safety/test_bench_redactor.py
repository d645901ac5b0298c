"""The redactor benchmark scenario reports its figures (never judged here: no timing asserts)."""

from __future__ import annotations

import math

import pytest

from evals.bench.profile import SMOKE
from evals.bench.redactor import PII_ANSWER, measure, measure_holdback
from evals.upstream.tokens import split_tokens
from service.pipeline.redact import load_redaction_policy


def test_smoke_profile_reports_cost_and_holdback() -> None:
    """Each case has a finite cost per token beside its pass-through; hold-back is in both units."""
    result = measure(SMOKE)
    assert set(result["cost"]) == {"en", "zh", "en_pii"}
    for case in result["cost"].values():
        assert case["chunks_per_round"] > 0
        assert math.isfinite(case["redactor_us_per_token"]) and case["redactor_us_per_token"] > 0
        assert case["passthrough_us_per_token"] >= 0
    for hold in result["holdback"].values():
        assert 0 <= hold["held_chars_mean"] <= hold["held_chars_max"]
        assert hold["delay_ms_max"] == pytest.approx(hold["delay_ms_max"] // 20 * 20)


def test_holdback_refuses_text_that_gets_redacted() -> None:
    """Delay per character is only defined for plain text, so PII answers are refused."""
    with pytest.raises(ValueError, match="changed length"):
        measure_holdback(load_redaction_policy(), [split_tokens(PII_ANSWER)])
