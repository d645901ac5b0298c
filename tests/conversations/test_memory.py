"""The pipeline's view of conversations: owners, degrading to stateless, forgetting, locking,
and the model's condensed question under a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from prompts.loader import load_prompts
from service.conversations.condenser import ModelCondenser
from service.conversations.memory import ConversationMemory
from service.conversations.sqlite_store import SqliteConversationStore
from service.conversations.store import ConversationStoreUnavailable
from service.conversations.turn import ConversationContext, Summary, Turn
from service.conversations.turn_lock import TurnLocks
from service.errors import ConversationBusy, ConversationNotFound, ProviderTimeout
from service.pipeline.redact import load_redaction_policy
from service.providers.base import GenerationRequest, Usage
from tests.conversations.factories import context, title_of, turn

POLICY = load_redaction_policy()


class BrokenStore:
    """A store whose file is locked: every call is unavailable."""

    async def load(self, conversation_id: str) -> ConversationContext | None:
        raise ConversationStoreUnavailable("OperationalError")

    async def append(
        self, conversation_id: str, turn: Turn, *, summary: Summary, owner: str | None
    ) -> None:
        raise ConversationStoreUnavailable("OperationalError")

    async def set_summary(self, conversation_id: str, summary: Summary) -> None:
        raise ConversationStoreUnavailable("OperationalError")

    async def delete(self, conversation_id: str) -> bool:
        raise ConversationStoreUnavailable("OperationalError")

    async def prune(self) -> int:
        raise ConversationStoreUnavailable("OperationalError")

    async def aclose(self) -> None:
        return None


class ScriptedProvider:
    """A model that answers ``text`` after ``delay_s``, or raises ``error``."""

    name = "scripted"

    def __init__(
        self, text: str = "", *, delay_s: float = 0.0, error: Exception | None = None
    ) -> None:
        self.text, self.delay_s, self.error = text, delay_s, error
        self.requests: list[GenerationRequest] = []

    async def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        self.requests.append(request)
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        usage.tokens_in, usage.tokens_out = 40, 8
        yield self.text

    async def aclose(self) -> None:
        return None


def memory(tmp_path: Path, **kwargs: Any) -> ConversationMemory:
    store = SqliteConversationStore(tmp_path / "c.sqlite")
    return ConversationMemory(store=store, title_of=title_of, policy=POLICY, **kwargs)


def test_an_unavailable_store_degrades_to_stateless(tmp_path: Path) -> None:
    """Load and record report degraded instead of failing the request."""
    conversations = ConversationMemory(store=BrokenStore(), title_of=title_of, policy=POLICY)

    async def scenario() -> None:
        loaded = await conversations.load("c-1", owner="anonymous")
        assert (loaded.context, loaded.degraded) == (None, True)
        assert await conversations.record("c-1", None, turn(), owner="anonymous") is False

    asyncio.run(scenario())


def test_a_key_sees_only_its_own_conversations(tmp_path: Path) -> None:
    """Another key's conversation is 404 to read or delete, and a fresh start for its turns."""
    conversations = memory(tmp_path)

    async def scenario() -> None:
        await conversations.record("c-1", None, turn(), owner="key-a")
        assert (await conversations.read("c-1", owner="key-a")).turns == (turn(),)
        with pytest.raises(ConversationNotFound):
            await conversations.read("c-1", owner="key-b")
        with pytest.raises(ConversationNotFound):
            await conversations.forget("c-1", owner="key-b")
        assert (await conversations.load("c-1", owner="key-b")).context is None
        assert (await conversations.load("c-1", owner="key-a")).context is not None

    asyncio.run(scenario())


def test_forget_removes_the_conversation_and_its_cached_turns(tmp_path: Path) -> None:
    """After forget the conversation is 404 and the cache heard which id to drop."""
    dropped: list[str] = []
    conversations = memory(tmp_path, on_forget=dropped.append)

    async def scenario() -> None:
        await conversations.record("c-1", None, turn(), owner="anonymous")
        await conversations.forget("c-1", owner="anonymous")
        with pytest.raises(ConversationNotFound):
            await conversations.read("c-1", owner="anonymous")
        with pytest.raises(ConversationNotFound):
            await conversations.forget("c-1", owner="anonymous")

    asyncio.run(scenario())
    assert dropped == ["c-1"]


def test_record_keeps_an_extractive_summary(tmp_path: Path) -> None:
    """Each stored turn extends the summary with its topic and entities."""
    conversations = memory(tmp_path)

    async def scenario() -> None:
        first = turn(entities={"order_id": "BC-100231"})
        await conversations.record("c-1", None, first, owner="anonymous")
        loaded = await conversations.read("c-1", owner="anonymous")
        assert loaded.summary.topics == ("refund-request",)
        assert loaded.summary.entities == {"order_id": "BC-100231"}

    asyncio.run(scenario())


def test_second_turn_waits_for_the_first_then_409_after_the_wait() -> None:
    """Turns of one conversation are serialised; a turn that waits too long is refused."""
    patient, impatient = TurnLocks(wait_s=30.0), TurnLocks(wait_s=0.01)
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with patient.hold("c-1"):
            order.append("first-in")
            first_in.set()
            await asyncio.sleep(0.01)
            order.append("first-out")

    async def second() -> None:
        await first_in.wait()
        async with patient.hold("c-1"):
            order.append("second-in")

    async def scenario() -> None:
        await asyncio.gather(first(), second())
        assert order == ["first-in", "first-out", "second-in"]
        release = await impatient.acquire("c-1")
        with pytest.raises(ConversationBusy):
            await impatient.acquire("c-1")
        release()
        release()  # idempotent
        assert len(patient) == 0 and len(impatient) == 0  # idle conversations hold no lock

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "provider",
    [
        ScriptedProvider("unused", delay_s=5.0),
        ScriptedProvider(error=ProviderTimeout()),
        ScriptedProvider("   "),
    ],
    ids=["deadline", "error", "empty"],
)
def test_condenser_falls_back_to_the_rules(provider: ScriptedProvider) -> None:
    """A slow, failing or empty model leaves the deterministic rewrite in place."""
    condenser = ModelCondenser(
        provider=provider, model="m", prompts=load_prompts(), timeout_s=0.05, budget_tokens=200
    )
    conversations = ConversationMemory(
        store=BrokenStore(), title_of=title_of, policy=POLICY, condenser=condenser
    )
    result = asyncio.run(
        conversations.contextualise(
            "how long does that take?", context(turn()), lang="en", usage=Usage()
        )
    )
    assert result.reason == "follow_up_active_entry"


def test_condenser_uses_the_models_question_and_reports_usage() -> None:
    """With history, the model's standalone question is used and its tokens are counted."""
    provider = ScriptedProvider("How long does a refund take?")
    condenser = ModelCondenser(
        provider=provider, model="m", prompts=load_prompts(), timeout_s=1.0, budget_tokens=200
    )
    conversations = ConversationMemory(
        store=BrokenStore(), title_of=title_of, policy=POLICY, condenser=condenser
    )
    usage = Usage()
    result = asyncio.run(
        conversations.contextualise("how long?", context(turn()), lang="en", usage=usage)
    )
    assert (result.question, result.reason) == ("How long does a refund take?", "model_condensed")
    assert usage.tokens_in == 40
    prompt = provider.requests[0].messages[0].content
    assert "How do I request a refund?" in prompt and "how long?" in prompt


def test_summary_is_refreshed_in_the_background_and_redacted(tmp_path: Path) -> None:
    """After more than six messages the model's summary replaces the text, redacted first;
    before that no model call is made."""
    from service.conversations.summariser import SummaryRefresher
    from service.pipeline.redact import load_redaction_policy

    store = SqliteConversationStore(tmp_path / "c.sqlite")
    provider = ScriptedProvider("Customer wants a refund; email jane.doe@example.com")
    refresher = SummaryRefresher(
        store=store,
        provider=provider,
        model="cheap",
        prompts=load_prompts(),
        policy=load_redaction_policy(),
        after_messages=6,
    )
    conversations = ConversationMemory(
        store=store, title_of=title_of, policy=POLICY, refresher=refresher
    )

    async def scenario() -> str:
        loaded: ConversationContext | None = None
        for n in range(4):
            await conversations.record("c-1", loaded, turn(f"q{n}"), owner="anonymous")
            loaded = await store.load("c-1")
            if n < 3:
                assert provider.requests == []  # 2, 4, 6 messages: not yet
        await refresher.wait()
        await refresher.aclose()
        final = await store.load("c-1")
        assert final is not None
        return final.summary.text

    text = asyncio.run(scenario())
    assert "refund" in text and "jane.doe@example.com" not in text
    assert len(provider.requests) == 1
