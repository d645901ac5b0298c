"""The `openai` provider streams through langchain-openai from the real upstream simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from service.settings import LLMSettings, RouterSettings
from tests.conftest import AppHandle
from tests.sse_client import answer_text, ask_sse


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    with start_simulator(config=SimulatorConfig(ttft_ms=5, tokens_per_second=2000)) as process:
        yield process


@pytest.fixture
def openai_beacon(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> AppHandle:
    return beacon_factory(provider="openai", llm=LLMSettings(base_url=simulator.openai_base_url))


@pytest.mark.parametrize("question", ["怎么申请退款？", "How do I request a refund?"])
def test_refund_question_streams_the_simulator_answer(
    openai_beacon: AppHandle, simulator: SimulatorProcess, question: str
) -> None:
    """The cheap model answers from the cited evidence and done reports the simulator's usage."""
    _, events = ask_sse(openai_beacon.url, question)
    meta, done = events[0].data, events[-1].data
    assert (meta["route"], meta["model"]) == ("easy", "beacon-easy")
    assert done["finish_reason"] == "stop"
    text = answer_text(events)
    assert text.startswith(("According to our help centre", "根据"))
    usage = done["usage"]
    assert usage["input_tokens"] > 50 and usage["output_tokens"] > 3
    assert done["cost_usd"] > 0
    assert (
        openai_beacon.metric("beacon_tokens_total", model="beacon-easy", direction="output")
        == usage["output_tokens"]
    )


def test_multi_part_question_goes_to_the_strong_model(openai_beacon: AppHandle) -> None:
    """A two-part question is routed to the hard tier's model."""
    _, events = ask_sse(
        openai_beacon.url, "How do I request a refund? And how long does delivery take?"
    )
    assert (events[0].data["route"], events[0].data["model"]) == ("hard", "beacon-hard")
    assert events[-1].event == "done"


def test_faq_direct_skips_the_model(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> None:
    """With FAQ-direct on, a confident match is answered from the KB at zero model cost."""
    simulator.reset_stats()
    handle = beacon_factory(
        provider="openai",
        llm=LLMSettings(base_url=simulator.openai_base_url),
        router=RouterSettings(faq_direct=True),
    )
    _, events = ask_sse(handle.url, "How do I request a refund?")
    assert events[0].data["route"] == "faq" and events[-1].data["cost_usd"] == 0
    assert sum(simulator.stats()["requests_total"].values()) == 0


def test_unreachable_model_falls_back_to_the_faq_answer(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """A dead upstream is answered from the FAQ, marked as a fallback, with one terminal event."""
    handle = beacon_factory(
        provider="openai", llm=LLMSettings(base_url="http://127.0.0.1:9/v1", connect_timeout_s=1)
    )
    _, events = ask_sse(handle.url, "How do I request a refund?")
    terminal = [e for e in events if e.event in ("done", "error")]
    assert len(terminal) == 1 and terminal[0].event == "done"
    done = terminal[0].data
    assert done["fallbacks"] == ["easy->faq"] and done["answered_by"] == "faq"
    assert done["degraded"] == {"code": "model_unavailable", "layer": "model"}
    assert answer_text(events).strip()
    assert handle.metric("beacon_requests_total", route="easy", outcome="ok") == 1
    assert handle.metric("beacon_fallbacks_total", **{"from": "easy", "to": "faq"}) == 1
