"""Everything a running Beacon owns, built in the lifespan and closed when it ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from opentelemetry.sdk.trace import TracerProvider

from prompts.loader import PromptSet, load_prompts
from rag.embeddings import make_embeddings
from rag.index import configure_faiss_threads, ensure_index, load_index
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.retriever import FaqRetriever, Fusion
from service.admission import Admission
from service.conversations.builder import build_conversation_memory
from service.grounding.answer_filter import grounding_filter_factory
from service.grounding.guard import GroundingConfig
from service.grounding.policy import UnsupportedAction
from service.observability.ask_record import Accountant
from service.observability.cost import load_pricing
from service.observability.metrics import Metrics
from service.pipeline.cache import build_answer_cache
from service.pipeline.plan import AnswerPlan, plan
from service.pipeline.redact import RedactionPolicy, StreamRedactor
from service.pipeline.route import RouteThresholds, choose_route
from service.pipeline.services import PipelineConfig, Services
from service.pipeline.text_filter import FilterFactory, TextFilter
from service.providers.base import ChatProvider
from service.providers.faq import FaqProvider
from service.resilience.retrieval import GuardedRetriever
from service.resilience.wiring import build_generator, build_order_tool, tier_deadlines
from service.settings import GroundingSettings, Settings

if TYPE_CHECKING:
    from service.state.shared import SharedState

log = structlog.get_logger("beacon.startup")

ServicesWrapper = Callable[[Services], Services]


@dataclass
class Resources:
    settings: Settings
    kb: KnowledgeBase
    retriever: FaqRetriever
    prompts: PromptSet
    provider: ChatProvider
    services: Services
    shared: SharedState | None = None
    """Redis-backed state when ``state.backend`` is ``redis`` (``service/state``)."""

    async def aclose(self) -> None:
        await self.services.conversations.aclose()
        await self.services.generator.provider.aclose()
        if self.shared is not None:
            await self.shared.aclose()


def build_provider(settings: Settings, faq: ChatProvider) -> ChatProvider:
    if settings.provider == "openai" and settings.llm.client == "langchain":
        from service.providers.langchain_openai import LangChainOpenAIProvider

        return LangChainOpenAIProvider(settings.llm)
    if settings.provider == "openai":
        from service.providers.openai_direct import OpenAIDirectProvider

        return OpenAIDirectProvider(settings.llm)
    return faq


def route_thresholds(settings: Settings) -> RouteThresholds:
    options = settings.router
    faq_direct = (
        options.faq_direct if options.faq_direct is not None else settings.provider == "faq"
    )
    embedded = settings.provider == "faq"
    clarify = options.clarify_unsure if options.clarify_unsure is not None else embedded
    return RouteThresholds(
        clarify_unsure=clarify,
        faq_min_score=options.faq_min_score,
        faq_min_score_zh=options.faq_min_score_zh,
        faq_min_margin=options.faq_min_margin,
        answer_min_score=options.answer_min_score,
        answer_min_score_zh=options.answer_min_score_zh,
        hard_min_chars=options.hard_min_chars,
        faq_direct=faq_direct,
    )


def build_retriever(settings: Settings, kb: KnowledgeBase) -> FaqRetriever:
    configure_faiss_threads(1)
    options = settings.retrieval
    embeddings = make_embeddings(options.embeddings)
    if options.build_if_missing:
        index = ensure_index(kb, options.index_dir, options.embeddings)
    else:
        index = load_index(options.index_dir, embeddings=embeddings)
    weights = options.fusion
    fusion = Fusion(dense=weights.dense, lexical=weights.lexical, matcher=weights.matcher)
    return FaqRetriever(kb=kb, index=index, embeddings=embeddings, fusion=fusion)


def pipeline_config(settings: Settings, *, canaries: tuple[str, ...]) -> PipelineConfig:
    llm = settings.llm
    return PipelineConfig(
        thresholds=route_thresholds(settings),
        top_k=settings.retrieval.top_k,
        max_question_chars=settings.limits.max_question_chars,
        easy_model=llm.easy_model,
        hard_model=llm.hard_model,
        max_tokens=llm.max_tokens,
        canary=settings.canary.get_secret_value(),
        canaries=canaries,
        deadlines=tier_deadlines(settings),
        keepalive_s=settings.limits.keepalive_s,
        log_text=settings.observability.log_text,
        uses_model=settings.provider != "faq",
    )


def redactor_factory(policy: RedactionPolicy, canaries: tuple[str, ...]) -> FilterFactory:
    """The first text filter of every answer: the redactor, in the answer's language."""

    def make(answer_plan: AnswerPlan) -> TextFilter:
        return StreamRedactor(policy, canaries=canaries, lang=answer_plan.lang)

    return make


def grounding_factories(settings: GroundingSettings) -> tuple[FilterFactory, ...]:
    """The second text filter, unless switched off: model answers checked against their
    evidence (after the redactor, so the claims it reports are redacted)."""
    if not settings.enabled:
        return ()
    action = UnsupportedAction(settings.action)
    return (grounding_filter_factory(GroundingConfig(action=action)),)


def build_services(
    settings: Settings,
    *,
    retriever: FaqRetriever,
    prompts: PromptSet,
    metrics: Metrics,
    tracer_provider: TracerProvider,
    policy: RedactionPolicy,
    canaries: tuple[str, ...],
    shared: SharedState | None = None,
) -> Services:
    """``shared``: Redis-backed state for replicas (``service/state``); None: in process."""
    faq = FaqProvider()
    provider = build_provider(settings, faq)
    for model in (settings.llm.easy_model, settings.llm.hard_model):
        metrics.add_model(model)
    options = settings.resilience
    accountant = Accountant(metrics=metrics, pricing=load_pricing())
    conversations = build_conversation_memory(
        settings.conversations,
        kb=retriever.kb,
        prompts=prompts,
        policy=policy,
        model=None if provider is faq else (provider, settings.llm.easy_model),
        shared=None if shared is None else (shared.conversations, shared.turn_locks),
        on_usage=accountant.background_call,
    )
    return Services(
        config=pipeline_config(settings, canaries=canaries),
        admission=Admission(settings.admission, metrics),
        retriever=GuardedRetriever(retriever, timeout_s=options.retrieval_timeout_s),
        orders=build_order_tool(settings, metrics),
        router=choose_route,
        conversations=conversations,
        turn_finished=(conversations.turn_finished,),
        cache=build_answer_cache(settings.cache, metrics),
        prompts=prompts,
        policy=policy,
        generator=build_generator(
            settings, provider=provider, faq_provider=faq, prompts=prompts, metrics=metrics
        ),
        filters=(redactor_factory(policy, canaries), *grounding_factories(settings.grounding)),
        planner=plan,
        metrics=metrics,
        tracer=tracer_provider.get_tracer("beacon"),
        accountant=accountant,
    )


def build_resources(
    settings: Settings,
    *,
    metrics: Metrics,
    tracer_provider: TracerProvider,
    policy: RedactionPolicy,
    canaries: tuple[str, ...],
    wrap: ServicesWrapper | None = None,
) -> Resources:
    """``wrap``: a harness's changes to the services (drills, evals); None in production."""
    kb = load_knowledge_base(settings.retrieval.kb_dir)
    retriever = build_retriever(settings, kb)
    prompts = load_prompts()
    shared = None
    if settings.state.backend == "redis":
        from service.state.shared import open_shared_state

        shared = open_shared_state(settings, metrics)
    services = build_services(
        settings,
        retriever=retriever,
        prompts=prompts,
        metrics=metrics,
        tracer_provider=tracer_provider,
        policy=policy,
        canaries=canaries,
        shared=shared,
    )
    if shared is not None:
        from service.state.wiring import share_state

        services, shared = share_state(services, settings, shared)
    if wrap is not None:
        services = wrap(services)
    provider = services.generator.provider
    log.info("settings_loaded", settings=settings.masked())
    log.info(
        "index_loaded",
        kb_version=kb.version,
        entries=len(kb),
        index_vectors=retriever.index.vectors.ntotal,
        embeddings=settings.retrieval.embeddings,
        provider=provider.name,
    )
    log.info("prompts_loaded", prompt_version=prompts.version, prompts=prompts.labels())
    return Resources(
        settings=settings,
        kb=kb,
        retriever=retriever,
        prompts=prompts,
        provider=provider,
        services=services,
        shared=shared,
    )
