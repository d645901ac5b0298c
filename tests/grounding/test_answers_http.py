"""Grounding through the real HTTP app, against the upstream simulator process: a model wrong on
purpose gets no unsupported claim to the customer in either language, a faithful one streams
unchanged, and ``done``, the log line and the metrics carry the verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, start_simulator
from rag.knowledge import load_knowledge_base
from service.grounding.check import check_answer
from service.settings import (
    DEFAULT_KB_DIR,
    CacheSettings,
    GroundingSettings,
    LLMSettings,
    RouterSettings,
)
from tests.conftest import AppHandle
from tests.observability.conftest import LogLines
from tests.sse_client import answer_text, ask_sse

pytestmark = pytest.mark.slow

KB = load_knowledge_base(DEFAULT_KB_DIR)
# Canonical questions whose first answer sentence holds a number (the simulator quotes it).
NUMBERED = ["contact-customer-service", "delivery-options", "refund-policy", "gift-cards"]
QUESTIONS = [
    (entry.question[lang], entry.id, lang)
    for entry in KB.entries
    if entry.id in NUMBERED
    for lang in ("en", "zh")
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    # Helpful unless a request names the unfaithful mode (+unfaithful model suffix).
    with start_simulator(config=SimulatorConfig(ttft_ms=1, tokens_per_second=2000)) as process:
        yield process


def make_beacon(
    beacon_factory: Callable[..., AppHandle],
    simulator: SimulatorProcess,
    *,
    suffix: str = "",
    grounding: GroundingSettings | None = None,
) -> AppHandle:
    llm = LLMSettings(
        base_url=simulator.openai_base_url,
        easy_model=f"beacon-easy{suffix}",
        hard_model=f"beacon-hard{suffix}",
    )
    return beacon_factory(
        provider="openai",
        llm=llm,
        router=RouterSettings(faq_direct=False),
        cache=CacheSettings(enabled=False),
        grounding=grounding or GroundingSettings(),
    )


def evidence_of(entry_ids: list[str]) -> list[str]:
    return [text for entry in KB.entries if entry.id in entry_ids for text in entry.answer.values()]


def test_wrong_on_purpose_model_gets_no_unsupported_claim_to_the_customer(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> None:
    """Every answer of a model wrong in all its answers reaches the client with every claim
    supported, in English and Chinese; ``done`` says which were corrected, and the metrics
    count them."""
    beacon = make_beacon(beacon_factory, simulator, suffix="+unfaithful")
    corrected = 0
    for question, entry_id, lang in QUESTIONS:
        _, events = ask_sse(beacon.url, question)
        text, done = answer_text(events), events[-1].data
        cited = [item["id"] for item in events[1].data["citations"]]
        assert entry_id in cited
        assert check_answer(text, [*evidence_of(cited), question]).grounded, (lang, text)
        assert done["grounded"] in ("supported", "unsupported")
        if done["grounded"] == "unsupported":
            corrected += 1
            assert done["unsupported_claims"]
            assert ("——" if lang == "zh" else "— please check") in text
    assert corrected == len(QUESTIONS)
    assert beacon.metric("beacon_grounded_answers_total", grounded="unsupported") == corrected


def test_faithful_model_streams_unchanged_with_the_guard_on(
    beacon_factory: Callable[..., AppHandle], simulator: SimulatorProcess
) -> None:
    """Without the wrong-on-purpose mode, every answer is the same with the guard on and off."""
    guarded = make_beacon(beacon_factory, simulator)
    unguarded = make_beacon(beacon_factory, simulator, grounding=GroundingSettings(enabled=False))
    for question, _, _ in QUESTIONS:
        _, with_guard = ask_sse(guarded.url, question)
        _, without = ask_sse(unguarded.url, question)
        assert answer_text(with_guard) == answer_text(without)
        assert with_guard[-1].data["grounded"] == "supported"
        assert "grounded" not in without[-1].data  # switched off: no verdict at all


def test_faq_direct_answer_is_reported_verbatim(
    beacon_factory: Callable[..., AppHandle],
) -> None:
    """The embedded FAQ answer is not checked and says so."""
    beacon = beacon_factory()
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    assert events[-1].data["grounded"] == "verbatim"
    assert events[-1].data["unsupported_claims"] == []


@pytest.fixture
def log_lines(capfd: pytest.CaptureFixture[str]) -> LogLines:
    return LogLines(capfd)


def test_unsupported_claims_reach_done_and_the_log_line_redacted(
    beacon_factory: Callable[..., AppHandle], log_lines: LogLines
) -> None:
    """A model inventing a deadline next to an e-mail address: ``done`` and the one
    ``ask_completed`` line name the claim, and the address is masked everywhere."""
    answer = "Write to jane.doe@example.com and we refund you within 3 days."
    config = SimulatorConfig(ttft_ms=1, tokens_per_second=2000, answer=answer)
    with start_simulator(config=config) as simulator:
        beacon = make_beacon(beacon_factory, simulator)
        log_lines.read()
        _, events = ask_sse(beacon.url, "How do I request a refund?")
        (line,) = log_lines.events("ask_completed")
    done = events[-1].data
    assert answer_text(events).startswith(
        "Write to [email] and we refund you within — please check"
    )
    assert done["grounded"] == "unsupported"
    assert done["unsupported_claims"] == [{"kind": "duration", "text": "3 days"}]
    assert (line["grounded"], line["unsupported_claims"]) == ("unsupported", ["duration: 3 days"])
    assert "jane.doe" not in str(done) and "jane.doe" not in str(line)
    assert beacon.metric("beacon_ungrounded_claims_total", kind="duration") == 1
