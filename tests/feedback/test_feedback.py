"""Feedback: POST /feedback over real HTTP, the SQLite store, and the regression-case export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.harness.cases import read_cases
from service.admission.keys import hash_api_key
from service.cli import main
from service.feedback import AnsweredTurn, Citation, Feedback, SQLiteFeedbackStore
from service.feedback.export import regression_candidates
from service.settings import AdmissionSettings, FeedbackSettings
from tests.conftest import AppHandle

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def feedback_beacon(
    beacon_factory: Callable[..., AppHandle], tmp_path: Path
) -> tuple[AppHandle, Path]:
    db = tmp_path / "feedback.sqlite"
    return beacon_factory(feedback=FeedbackSettings(db_path=db)), db


def rated_down(db: Path) -> list[Feedback]:
    async def read() -> list[Feedback]:
        store = SQLiteFeedbackStore(db)
        try:
            return [item.feedback for item in await store.rated("down")]
        finally:
            await store.aclose()

    return asyncio.run(read())


def test_thumbs_down_is_stored_redacted_and_counted(
    feedback_beacon: tuple[AppHandle, Path],
) -> None:
    """A thumbs-down with a comment is stored with the card number and email redacted, and
    counted in beacon_feedback_total{rating="down"}."""
    beacon, db = feedback_beacon
    comment = "错了！my card 4111 1111 1111 1111, mail me at jo@example.com"
    response = httpx.post(
        f"{beacon.url}/feedback", json={"trace_id": TRACE, "rating": "down", "comment": comment}
    )
    assert response.status_code == 202
    assert response.json() == {"status": "recorded", "trace_id": TRACE}
    assert beacon.metric("beacon_feedback_total", rating="down") == 1
    assert beacon.metric("beacon_feedback_total", rating="up") == 0
    [stored] = rated_down(db)
    assert stored.trace_id == TRACE and stored.comment is not None
    assert "4111" not in stored.comment and "jo@example.com" not in stored.comment
    assert stored.comment.startswith("错了！")


def test_latest_rating_of_an_answer_wins(feedback_beacon: tuple[AppHandle, Path]) -> None:
    """Changing one's mind replaces the earlier rating instead of counting the answer twice."""
    beacon, db = feedback_beacon
    for rating in ("down", "up"):
        httpx.post(f"{beacon.url}/feedback", json={"trace_id": TRACE, "rating": rating})
    assert rated_down(db) == []


@pytest.mark.parametrize(
    "body",
    [
        {"trace_id": TRACE, "rating": "meh"},
        {"trace_id": "not-a-trace", "rating": "up"},
        {"trace_id": TRACE, "rating": "down", "comment": "x" * 1001},
        {"trace_id": TRACE, "rating": "up", "extra": 1},
    ],
)
def test_invalid_feedback_is_refused_with_422(
    feedback_beacon: tuple[AppHandle, Path], body: dict[str, object]
) -> None:
    """Unknown ratings, malformed trace ids, long comments and unknown fields get 422."""
    beacon, _ = feedback_beacon
    response = httpx.post(f"{beacon.url}/feedback", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_feedback_needs_the_api_key_when_keys_are_on(
    beacon_factory: Callable[..., AppHandle], tmp_path: Path
) -> None:
    """With API keys configured, feedback without a valid key is refused with 401."""
    beacon = beacon_factory(
        feedback=FeedbackSettings(db_path=tmp_path / "f.sqlite"),
        admission=AdmissionSettings(api_key_sha256=(hash_api_key("sk-good-key-123"),)),
    )
    body = {"trace_id": TRACE, "rating": "up"}
    assert httpx.post(f"{beacon.url}/feedback", json=body).status_code == 401
    good = httpx.post(
        f"{beacon.url}/feedback", json=body, headers={"authorization": "Bearer sk-good-key-123"}
    )
    assert good.status_code == 202


async def fill_store(db: Path, question: str, comment: str) -> None:
    store = SQLiteFeedbackStore(db)
    try:
        citation = Citation(id="refund-request", title="How to request a refund", source="hc/r")
        await store.record_answer(
            AnsweredTurn(TRACE, question, "Open Orders…", (citation,), route="faq", lang="zh")
        )
        await store.add(Feedback(TRACE, "down", comment))
        await store.add(Feedback("a" * 32, "down", "no answer recorded for this one"))
        await store.add(Feedback("b" * 32, "up"))
    finally:
        await store.aclose()


def test_export_writes_thumbs_down_as_loadable_regression_cases(tmp_path: Path) -> None:
    """`beacon eval feedback export` writes one case per thumbs-down answer it knows, with the
    question, the cited entries and the customer's comment, in a file the harness loads."""
    db, out = tmp_path / "f.sqlite", tmp_path / "candidates.yaml"
    asyncio.run(fill_store(db, "怎么退款？", "wrong entry:\nI asked about\nrefund #2"))
    assert main(["eval", "feedback", "export", "--db", str(db), "--out", str(out)]) == 0
    [case] = read_cases(out)
    assert case.question == "怎么退款？" and case.lang == "zh"
    assert case.expect_faq == ("refund-request",)
    assert "needs-review" in case.tags
    text = out.read_text(encoding="utf-8")
    assert "# customer said: wrong entry: I asked about refund #2" in text
    assert "# cited: How to request a refund (hc/r)" in text


@settings(max_examples=60, deadline=None)
@given(question=st.text(min_size=1, max_size=200), comment=st.text(max_size=300))
def test_export_round_trips_any_question_and_comment(question: str, comment: str) -> None:
    """Whatever the customer typed, the exported file parses and keeps the question exactly."""
    from service.feedback import RatedAnswer

    answer = AnsweredTurn(TRACE, question, "answer", (Citation("x", "t", "s"),), lang="en")
    export = regression_candidates([RatedAnswer(Feedback(TRACE, "down", comment), answer)])
    import yaml

    [raw] = yaml.safe_load(export.text)["cases"]
    assert raw["question"] == question and export.cases == 1


def test_answers_are_recorded_so_their_feedback_exports_with_the_question(
    feedback_beacon: tuple[AppHandle, Path], tmp_path: Path
) -> None:
    """An answer's question (redacted) and citations are recorded when it ends, so a
    thumbs-down on it exports as a case with both."""
    beacon, db = feedback_beacon
    question = "How do I request a refund? Mail me at jo@example.com"
    body = {"model": "beacon", "messages": [{"role": "user", "content": question}]}
    completion = httpx.post(f"{beacon.url}/v1/chat/completions", json=body, timeout=30).json()
    trace_id = completion["beacon"]["trace_id"]
    cited = [c["id"] for c in completion["beacon"]["citations"]]
    feedback = {"trace_id": trace_id, "rating": "down", "comment": "too long"}
    assert httpx.post(f"{beacon.url}/feedback", json=feedback).status_code == 202
    out = tmp_path / "candidates.yaml"
    assert main(["eval", "feedback", "export", "--db", str(db), "--out", str(out)]) == 0
    [case] = read_cases(out)
    assert case.question.startswith("How do I request a refund?")
    assert "jo@example.com" not in case.question
    assert list(case.expect_faq) == cited and cited
