"""Everything a running Beacon owns, built in the lifespan and closed when it ends."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from opentelemetry.sdk.trace import TracerProvider

from prompts.loader import PromptSet, load_prompts
from rag.embeddings import make_embeddings
from rag.index import configure_faiss_threads, ensure_index, load_index
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.retriever import FaqRetriever, Fusion
from service.admission import Admission
from service.conversations.builder import build_conversation_memory
from service.conversations.memory import ConversationMemory
from service.observability.ask_record import Accountant
from service.observability.cost import load_pricing
from service.observability.metrics import Metrics
from service.pipeline.answer import Answerer, AnswererConfig
from service.pipeline.cache import build_answer_cache
from service.pipeline.canaries import extra_canaries, load_eval_system_prompts
from service.pipeline.redact import RedactionPolicy
from service.pipeline.route import RouteThresholds
from service.providers.base import ChatProvider
from service.providers.faq import FaqProvider
from service.resilience.wiring import build_resilience
from service.settings import Settings

log = structlog.get_logger("beacon.startup")


@dataclass
class Resources:
    settings: Settings
    kb: KnowledgeBase
    retriever: FaqRetriever
    prompts: PromptSet
    provider: ChatProvider
    answerer: Answerer
    admission: Admission
    conversations: ConversationMemory

    async def aclose(self) -> None:
        await self.conversations.aclose()
        await self.provider.aclose()


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
        faq_min_margin=options.faq_min_margin,
        answer_min_score=options.answer_min_score,
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


def build_resources(
    settings: Settings,
    *,
    metrics: Metrics,
    tracer_provider: TracerProvider,
    policy: RedactionPolicy,
) -> Resources:
    kb = load_knowledge_base(settings.retrieval.kb_dir)
    retriever = build_retriever(settings, kb)
    prompts = load_prompts()
    faq = FaqProvider()
    provider = build_provider(settings, faq)
    llm = settings.llm
    for model in (llm.easy_model, llm.hard_model):
        metrics.add_model(model)
    config = AnswererConfig(
        thresholds=route_thresholds(settings),
        top_k=settings.retrieval.top_k,
        max_question_chars=settings.limits.max_question_chars,
        easy_model=llm.easy_model,
        hard_model=llm.hard_model,
        max_tokens=llm.max_tokens,
        canary=settings.canary.get_secret_value(),
        log_text=settings.observability.log_text,
        extra_canaries=extra_canaries(settings),
        eval_prompts=load_eval_system_prompts(settings.eval_system_prompts),
    )
    conversations = build_conversation_memory(
        settings.conversations,
        kb=kb,
        prompts=prompts,
        policy=policy,
        model=None if provider is faq else (provider, llm.easy_model),
    )
    answerer = Answerer(
        config=config,
        retriever=retriever,
        prompts=prompts,
        provider=provider,
        faq_provider=faq,
        policy=policy,
        metrics=metrics,
        accountant=Accountant(metrics=metrics, pricing=load_pricing()),
        tracer=tracer_provider.get_tracer("beacon"),
        conversations=conversations,
        cache=build_answer_cache(settings.cache, metrics),
        resilience=build_resilience(
            settings,
            retriever=retriever,
            provider=provider,
            faq_provider=faq,
            prompts=prompts,
            metrics=metrics,
        ),
    )
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
        answerer=answerer,
        admission=Admission(settings.admission, metrics),
        conversations=conversations,
    )
