"""The faithfulness metric: per answer, per suite, in the reports, gated, and measured end to end
against a model that is wrong on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.harness import baseline as gate
from evals.harness.evaluation import EvalOptions, run_eval
from evals.harness.faithfulness import (
    EvidenceLibrary,
    annotate,
    faithfulness_section,
    summarise_faithfulness,
)
from evals.harness.metrics import summarise
from evals.harness.reports.markdown import render_markdown
from evals.harness.reports.page import render_html
from tests.evals.factories import REFUND, WEATHER, observe, result

LIBRARY = EvidenceLibrary(
    {"refund-request": ["Open the order and choose Request refund within 30 days."]}
)


def test_answer_with_every_claim_in_the_cited_evidence_is_faithful() -> None:
    """A faithful answer counts toward faithfulness; a refusal is not checked."""
    results = [result(REFUND, observe()), result(WEATHER, observe(route="out_of_scope"))]
    annotate(results, LIBRARY)
    assert summarise_faithfulness(results) == {
        "faithfulness": 1.0,
        "unsupported_claims_per_1k_answers": 0.0,
    }
    assert faithfulness_section(results)["unchecked_answers"] == 1


def test_changed_number_and_invented_url_are_counted_per_1000_answers() -> None:
    """Unsupported claims lower faithfulness and are counted per 1,000 checked answers."""
    wrong = observe(
        trace_id="t-wrong",
        answer="Choose Request refund within 60 days, see https://x.example/refunds.",
    )
    results = [result(REFUND, observe(), wrong)]
    annotate(results, LIBRARY)
    figures = summarise(results)
    assert figures["faithfulness"] == 0.5
    assert figures["unsupported_claims_per_1k_answers"] == 1000.0
    worst = faithfulness_section(results)["worst"]
    assert worst[0]["trace_id"] == "t-wrong"
    assert worst[0]["unsupported"] == ["duration: 60 days", "url: https://x.example/refunds"]


def test_answer_citing_an_unknown_entry_is_left_unchecked() -> None:
    """A tool result the client cannot see (an order lookup) is not judged."""
    seen = observe(citations=(("order:BC-100001", 1.0),), answer="Order BC-100001 shipped.")
    results = [result(REFUND, seen)]
    annotate(results, LIBRARY)
    assert summarise_faithfulness(results)["faithfulness"] is None


def test_faithfulness_drop_regresses_the_gate() -> None:
    """A faithfulness below the baseline's tolerance fails the gate."""
    reference = gate.Baseline(suite="s", metrics={"faithfulness": 1.0}, passing_cases=frozenset())
    verdict = gate.compare(reference, {"faithfulness": 0.9}, [], baseline_path="b.json")
    assert not verdict.passed
    assert [item.name for item in verdict.regressed_metrics] == ["faithfulness"]


@pytest.mark.slow
def test_known_error_suite_measures_the_injected_share(tmp_path: Path) -> None:
    """Against the simulator in wrong-on-purpose mode, real processes end to end, the measured
    share of unfaithful answers is the share the simulator injected, within 2 points, and the
    reports name the unfaithful answers' trace_ids."""
    outcome = run_eval(
        EvalOptions(
            suite="known_errors",
            sample=60,
            report_dir=tmp_path / "reports",
            work_dir=tmp_path / "work",
            show_progress=False,
        )
    )
    section = outcome.report["faithfulness"]
    injected, measured = section["injected_unfaithful_share"], section["measured_unfaithful_share"]
    assert section["checked_answers"] == 60
    assert 0.1 < injected < 0.5
    assert abs(measured - injected) <= 0.02
    markdown = render_markdown(outcome.report)
    html = render_html(outcome.report)
    for item in section["worst"]:
        assert item["trace_id"] in markdown and item["trace_id"] in html
    assert "faithfulness" in outcome.report["metrics"]
