"""Build the resilience layer from settings; called once by the app's lifespan."""

from __future__ import annotations

from pathlib import Path

from prompts.loader import PromptSet
from rag.language import Lang
from service.observability.metrics import Metrics
from service.providers.base import ChatProvider
from service.resilience.breaker import BreakerPolicy, CircuitBoard
from service.resilience.deadline import Deadlines
from service.resilience.fallback import ResilientGenerator, TierModels
from service.resilience.retry import RetryPolicy
from service.settings import ResilienceSettings, Settings, TierDeadlines
from service.tools.order_status import OrderStatusTool
from service.tools.orders_db import ORDERS_DB_NAME, ensure_orders_db

HANDOFF_PROMPT = "handoff_fallback"


def tier_deadlines(settings: Settings) -> dict[str, Deadlines]:
    options = settings.resilience
    return {"easy": _deadlines(options.easy), "hard": _deadlines(options.hard)}


def build_generator(
    settings: Settings,
    *,
    provider: ChatProvider,
    faq_provider: ChatProvider,
    prompts: PromptSet,
    metrics: Metrics,
) -> ResilientGenerator:
    options = settings.resilience

    def handoff_text(lang: Lang, ticket_id: str) -> str:
        return prompts[HANDOFF_PROMPT].render(lang, ticket_id=ticket_id)

    return ResilientGenerator(
        provider=provider,
        faq_provider=faq_provider,
        models=TierModels(easy=settings.llm.easy_model, hard=settings.llm.hard_model),
        deadlines=tier_deadlines(settings),
        retry=retry_policy(options),
        breakers=CircuitBoard(
            BreakerPolicy(options.breaker_failures, options.breaker_cooldown_s),
            metrics.circuit_open,
        ),
        handoff_text=handoff_text,
    )


def retry_policy(options: ResilienceSettings) -> RetryPolicy:
    return RetryPolicy(
        attempts_per_model=options.attempts_per_model,
        retries_per_request=options.retries_per_request,
        max_wait_s=options.retry_max_wait_s,
        base_delay_s=options.backoff_base_s,
        max_delay_s=options.backoff_max_s,
    )


def orders_db_path(settings: Settings) -> Path:
    return settings.tools.orders_db or settings.retrieval.index_dir / ORDERS_DB_NAME


def build_order_tool(settings: Settings) -> OrderStatusTool:
    path = orders_db_path(settings)
    ensure_orders_db(path)
    tools = settings.tools
    return OrderStatusTool(path, timeout_s=tools.timeout_s, attempts=tools.attempts)


def _deadlines(tier: TierDeadlines) -> Deadlines:
    return Deadlines(tier.first_token_s, tier.chunk_s, tier.total_s)
