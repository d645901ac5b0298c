"""Cost: the pricing file, per-request cost in done/log/metric, and ``beacon cost project``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from evals.cost_projection import (
    TrafficProfile,
    load_traffic,
    project,
    traffic_from_route_mix,
)
from evals.route_mix import measure_traffic
from evals.upstream.process import SimulatorProcess
from service.cli import main
from service.observability.cost import load_pricing
from service.settings import LLMSettings, Settings
from tests.conftest import AppHandle
from tests.observability.conftest import LogLines
from tests.sse_client import ask_sse

MIX = {
    "route_mix": {"faq": 0.5, "easy": 0.3, "hard": 0.1, "risky": 0.05, "out_of_scope": 0.05},
    "tokens_per_route": {
        "easy": {"input": 300, "output": 80},
        "hard": {"input": 500, "output": 200},
    },
    "models": {"easy": "beacon-easy", "hard": "beacon-hard"},
}


def test_pricing_file_prices_every_shipped_model() -> None:
    """The shipped pricing has the faq provider free and both default tiers priced."""
    pricing = load_pricing()
    assert pricing.cost_usd("faq", tokens_in=1000, tokens_out=1000) == 0
    llm = LLMSettings()
    for model in (llm.easy_model, llm.hard_model):
        assert model in pricing.models and pricing.price_of(model).output_per_million > 0
    hard = pricing.price_of(llm.hard_model)
    assert pricing.cost_usd(llm.hard_model, tokens_in=1_000_000, tokens_out=0) == (
        hard.input_per_million
    )
    assert pricing.cost_usd(
        llm.hard_model, tokens_in=1_000_000, tokens_out=0, cached_in=1_000_000
    ) == (hard.cached_input_per_million)


def test_model_answer_cost_is_in_done_log_line_and_metric(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess, log_lines: LogLines
) -> None:
    """A model answer's cost, priced from reported usage, is the same in done, log and metric."""
    beacon = beacon_factory(provider="openai", llm=LLMSettings(base_url=simulator.openai_base_url))
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    done = events[-1].data
    expected = load_pricing().cost_usd(
        "beacon-easy",
        tokens_in=done["usage"]["input_tokens"],
        tokens_out=done["usage"]["output_tokens"],
    )
    assert done["cost_usd"] == pytest.approx(expected) and expected > 0
    (line,) = log_lines.events("ask_completed")
    assert line["cost_usd"] == pytest.approx(expected)
    assert beacon.metric("beacon_cost_usd_total", model="beacon-easy") == pytest.approx(expected)


def test_faq_answer_costs_no_model_dollars(beacon: AppHandle) -> None:
    """An answer straight from the FAQ costs 0 and adds nothing to the cost counter."""
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    assert events[-1].data["cost_usd"] == 0
    assert beacon.metric("beacon_cost_usd_total", model="faq") == 0


def test_projection_scales_with_volume_and_counts_both_savings() -> None:
    """Daily cost is the mix priced per request times volume; FAQ-direct and cache savings are
    what the faq share would cost on the cheap model and the hit rate of the model spend."""
    pricing = load_pricing()
    traffic = traffic_from_route_mix({**MIX, "cache_hit_rate": 0.2}, source="test")
    easy = pricing.cost_usd("beacon-easy", tokens_in=300, tokens_out=80)
    hard = pricing.cost_usd("beacon-hard", tokens_in=500, tokens_out=200)
    per_request = 0.3 * easy + 0.15 * hard  # risky uses the hard model and tokens
    result = project(traffic, requests_per_day=10_000, pricing=pricing)
    assert result.before_cache_daily_usd == pytest.approx(per_request * 10_000)
    assert result.cache_saving_daily_usd == pytest.approx(0.2 * per_request * 10_000)
    assert result.daily_usd == pytest.approx(0.8 * per_request * 10_000)
    assert result.monthly_usd == pytest.approx(30 * result.daily_usd)
    assert result.faq_direct_saving_daily_usd == pytest.approx(0.5 * easy * 10_000)
    double = project(traffic, requests_per_day=20_000, pricing=pricing)
    assert double.daily_usd == pytest.approx(2 * result.daily_usd)


def test_eval_report_routes_become_the_traffic_profile(tmp_path: Path) -> None:
    """An eval report's routes section (shares, tokens per 1k, models) drives the projection."""
    report = {
        "routes": {
            "faq": {"requests": 6, "share": 0.6, "tokens_in_per_1k": 0.0,
                    "tokens_out_per_1k": 90_000.0, "models": ["faq"]},
            "easy": {"requests": 3, "share": 0.3, "tokens_in_per_1k": 400_000.0,
                     "tokens_out_per_1k": 100_000.0, "models": ["beacon-easy"]},
            "out_of_scope": {"requests": 1, "share": 0.1, "tokens_in_per_1k": 0.0,
                             "tokens_out_per_1k": 0.0, "models": []},
        }
    }  # fmt: skip
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    traffic = load_traffic(path)
    assert traffic.routes["easy"].model == "beacon-easy"
    assert (traffic.routes["easy"].tokens_in, traffic.routes["easy"].tokens_out) == (400, 100)
    assert traffic.routes["faq"].model == "faq" and traffic.easy == traffic.routes["easy"]
    result = project(traffic, requests_per_day=1000, pricing=load_pricing())
    easy = load_pricing().cost_usd("beacon-easy", tokens_in=400, tokens_out=100)
    assert result.daily_usd == pytest.approx(0.3 * easy * 1000)
    assert result.faq_direct_saving_daily_usd == pytest.approx(0.6 * easy * 1000)


def test_regression_suite_mix_is_measured_in_process(
    settings_factory: Callable[..., Settings],
) -> None:
    """Without a report, the regression suite is routed in-process into a full route mix."""
    traffic: TrafficProfile = measure_traffic(settings_factory())
    assert sum(route.share for route in traffic.routes.values()) == pytest.approx(1)
    assert {"faq", "easy", "hard", "out_of_scope"} <= set(traffic.routes)
    assert traffic.routes["faq"].model == "faq" and traffic.routes["hard"].tokens_in > 100
    assert traffic.routes["easy"].model == "beacon-easy"


def test_cost_project_command_prints_and_writes_the_projection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`beacon cost project --from-eval MIX` prints daily, monthly and both savings, and JSON."""
    mix, out = tmp_path / "mix.json", tmp_path / "projection.json"
    mix.write_text(json.dumps(MIX))
    argv = ["cost", "project", "--requests-per-day", "5000", "--from-eval", str(mix)]
    assert main([*argv, "--cache-hit-rate", "0.1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    for words in ("5,000 requests/day", "daily", "monthly", "FAQ-direct saving", "cache saving"):
        assert words in printed
    written = json.loads(out.read_text())
    assert written["cache_hit_rate"] == 0.1 and written["monthly_usd"] > 0
    assert (
        written["saving"]["faq_direct_daily_usd"] > 0 and written["saving"]["cache_daily_usd"] > 0
    )


def test_cost_project_refuses_an_unreadable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is neither a report nor a mix ends with exit code 2 and a message."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"metrics": {}}')
    assert main(["cost", "project", "--requests-per-day", "10", "--from-eval", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
