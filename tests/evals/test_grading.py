"""Grading answers against cases, and the suite figures computed from graded attempts."""

from __future__ import annotations

import pytest

from evals.harness.cases import Case
from evals.harness.metrics import cost_projection, percentile, route_table, summarise
from tests.evals.factories import REFUND, WEATHER, observe, result


def test_right_answer_passes_every_applicable_check() -> None:
    """The expected entry first, answered, on the expected route, cited from retrieval: all pass."""
    case = Case(
        id="c",
        question="q",
        expect_faq=("refund-request",),
        expect_route="faq",
        must_include=("30 DAYS",),
        must_not_include=("password",),
    )
    checks = result(case, observe()).checks[0]
    assert checks == {
        "no_error": True,
        "top1": True,
        "refusal": True,
        "route": True,
        "citations": True,
        "must_include": True,
        "must_not_include": True,
    }


@pytest.mark.parametrize(
    ("seen", "failed"),
    [
        (observe(top="order-cancel"), {"top1"}),
        (observe(route="out_of_scope"), {"refusal"}),
        (observe(citations=(("invoice-get", 0.1),)), {"citations"}),
        (observe(error="upstream_timeout"), {"no_error"}),
    ],
)
def test_each_kind_of_wrong_answer_fails_its_check(seen: object, failed: set[str]) -> None:
    """A wrong entry, a wrong refusal, an invented citation or an error each fail by name."""
    checks = result(REFUND, seen).checks[0]  # type: ignore[arg-type]
    assert {name for name, ok in checks.items() if not ok} == failed


def test_refusal_figures_count_right_and_wrong_refusals() -> None:
    """Precision counts refusals that were right; recall counts expected refusals made."""
    results = [
        result(WEATHER, observe(route="out_of_scope")),
        result(Case(id="w2", question="q", expect_route="out_of_scope"), observe(route="easy")),
        result(REFUND, observe(route="out_of_scope")),
        result(Case(id="r2", question="q", expect_faq=("refund-request",)), observe()),
    ]
    figures = summarise(results)
    assert figures["refusal_precision"] == 0.5
    assert figures["refusal_recall"] == 0.5
    assert figures["answer_precision"] == 0.5  # r2 right; w2 answered a question to refuse
    assert figures["top1_hit_rate"] == 1.0


def test_top3_counts_an_expected_entry_ranked_second() -> None:
    """An expected entry in second place is a top-3 hit but not a top-1 hit."""
    figures = summarise(
        [
            result(
                REFUND,
                observe(
                    top="order-track",
                    retrieved=(("order-track", 0.5), ("refund-request", 0.4), ("x", 0.1)),
                ),
            )
        ]
    )
    assert (figures["top1_hit_rate"], figures["top3_hit_rate"]) == (0.0, 1.0)


def test_consistency_counts_cases_whose_repeats_agree() -> None:
    """A case answered differently across repeats lowers consistency and is flaky."""
    steady = result(REFUND, observe(), observe())
    wobbly = result(WEATHER, observe(route="out_of_scope"), observe(route="easy"))
    assert summarise([steady, wobbly])["consistency"] == 0.5
    assert wobbly.flaky and not steady.flaky and steady.passed


def test_route_table_reports_tokens_and_cost_per_thousand_requests() -> None:
    """Tokens and cost are averaged per route and scaled to 1,000 requests of that route."""
    results = [
        result(REFUND, observe(route="easy", tokens_in=200, tokens_out=50, cost_usd=0.0002)),
        result(REFUND, observe(route="easy", tokens_in=100, tokens_out=30, cost_usd=0.0001)),
        result(WEATHER, observe(route="out_of_scope")),
        result(REFUND, observe(route="faq")),
    ]
    routes = route_table(results)
    assert routes["easy"]["share"] == 0.5
    assert routes["easy"]["tokens_in_per_1k"] == 150_000
    assert routes["easy"]["cost_usd_per_1k"] == pytest.approx(0.15)
    assert routes["faq"]["cost_usd_per_1k"] == 0
    projection = cost_projection(routes, requests_per_day=10_000)
    assert projection["projected_daily_usd"] == pytest.approx(0.75)


def test_percentile_is_nearest_rank() -> None:
    """p50 and p95 pick observed values; no data gives None."""
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([], 95) is None


def test_outcome_shares_separate_right_wrong_clarified_and_refused() -> None:
    """Each attempt ends right, wrong, clarified or refused; a clarifying question is not an
    answer, and its precision counts suggestions that hold an expected entry."""
    clarify = observe(route="clarify", citations=(), suggestions=("refund-request", "order-track"))
    results = [
        result(REFUND, observe()),
        result(Case(id="r2", question="q", expect_faq=("order-track",)), observe()),
        result(Case(id="r3", question="q", expect_faq=("refund-request",)), clarify),
        result(
            Case(id="r4", question="q", expect_faq=("gift-cards",)),
            observe(route="clarify", citations=(), suggestions=("refund-request",)),
        ),
        result(WEATHER, observe(route="out_of_scope")),
    ]
    figures = summarise(results)
    assert figures["answered_right_rate"] == 0.2
    assert figures["answered_wrong_rate"] == 0.2
    assert figures["clarification_rate"] == 0.4
    assert figures["refused_rate"] == 0.2
    assert figures["clarification_precision"] == 0.5
    assert figures["answer_precision"] == 0.5  # clarified attempts are not answers


def test_a_cited_order_is_the_answer_s_top_entry_and_not_an_invented_citation() -> None:
    """A tool turn cites the order it looked up; retrieval ranks FAQ entries only. The order is
    top-1, the citation check passes, and the wrong order fails top-1."""
    case = Case(id="o", question="where is BC-123456?", expect_faq=("order:BC-123456",))
    cited = (("order:BC-123456", 1.0), ("order-track", 0.6))

    right = result(case, observe(route="tool", top="order-track", citations=cited)).checks[0]
    assert right["top1"] and right["citations"]

    other = (("order:BC-654321", 1.0),)
    wrong = result(case, observe(route="tool", top="order-track", citations=other)).checks[0]
    assert not wrong["top1"] and wrong["citations"]
