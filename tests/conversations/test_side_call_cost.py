"""A follow-up the cheap model condenses costs tokens too: the request's cost record holds them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.observability.cost import load_pricing
from service.settings import LLMSettings
from tests.conftest import AppHandle
from tests.sse_client import ask_sse


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=2000)) as process:
        yield process


def test_a_condensed_follow_up_adds_the_model_call_to_its_cost(
    beacon_factory: Callable[..., AppHandle],
    simulator: SimulatorProcess,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The second turn's log line lists the condensation as a side call, its cost is in the
    line's and ``done``'s total, and the model's token counter holds both calls."""
    beacon = beacon_factory(provider="openai", llm=LLMSettings(base_url=simulator.openai_base_url))
    simulator.reset_stats()
    body = {"conversation_id": "side-call-cost"}
    _, first = ask_sse(beacon.url, "How do I request a refund?", **body)
    _, second = ask_sse(beacon.url, "how long does that take?", **body)
    assert sum(simulator.stats()["requests_total"].values()) == 3  # answer, condense, answer

    lines = [
        orjson.loads(line)
        for line in capfd.readouterr().out.splitlines()
        if '"ask_completed"' in line
    ]
    assert [len(line.get("side_calls", [])) for line in lines] == [0, 1]
    condensed = lines[1]["side_calls"][0]
    assert condensed["purpose"] == "condense" and condensed["model"] == "beacon-easy"
    assert condensed["tokens_in"] > 0 and condensed["tokens_out"] > 0
    price = load_pricing().price_of("beacon-easy")
    expected = (
        condensed["tokens_in"] * price.input_per_million
        + condensed["tokens_out"] * price.output_per_million
    ) / 1e6
    assert condensed["cost_usd"] == pytest.approx(expected, rel=1e-3)

    answer_cost = load_pricing().cost_usd(
        lines[1]["model"], tokens_in=lines[1]["tokens_in"], tokens_out=lines[1]["tokens_out"]
    )
    total = lines[1]["cost_usd"]
    assert total == pytest.approx(answer_cost + condensed["cost_usd"], rel=1e-3)
    assert second[-1].data["cost_usd"] == pytest.approx(total, rel=1e-6)
    assert first[-1].data["cost_usd"] == pytest.approx(lines[0]["cost_usd"], rel=1e-6)

    tokens_out = sum(line["tokens_out"] for line in lines) + condensed["tokens_out"]
    counted = sum(
        beacon.metric("beacon_tokens_total", model=model, direction="output") or 0.0
        for model in ("beacon-easy", "beacon-hard")
    )
    assert counted == tokens_out
