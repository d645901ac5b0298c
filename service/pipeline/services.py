"""The long-lived collaborators of the pipeline, built once by the app's lifespan.

``Services`` is a frozen bag the steps read from. Its fields are the seams: a drill or an eval
replaces one (a retriever that fails, a provider that adds a header, a planner that extends
the system prompt) with ``dataclasses.replace`` before the app serves, through
``service.app.Harness``; production code carries no test hook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from opentelemetry.trace import Tracer

from prompts.loader import PromptSet
from service.admission import Admission
from service.observability.ask_record import Accountant
from service.observability.metrics import Metrics
from service.pipeline.cache import AnswerCache
from service.pipeline.conversation import ConversationStore, TurnFinished
from service.pipeline.redact import RedactionPolicy
from service.pipeline.route import RouteDecision, RouteFeatures, RouteThresholds
from service.pipeline.text_filter import FilterFactory
from service.resilience.deadline import Deadlines
from service.resilience.fallback import ResilientGenerator
from service.resilience.retrieval import GuardedRetriever
from service.tools.order_status import OrderStatus

if TYPE_CHECKING:
    from service.pipeline.context import AskContext
    from service.pipeline.plan import AnswerPlan
    from service.schemas import AskRequest


class Router(Protocol):
    def __call__(self, features: RouteFeatures, thresholds: RouteThresholds) -> RouteDecision: ...


class OrderLookup(Protocol):
    def get_order_status(self, order_id: str, calls: list[str]) -> Awaitable[OrderStatus]: ...


Planner = Callable[["AskRequest", "AskContext"], Awaitable["AnswerPlan"]]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    thresholds: RouteThresholds
    top_k: int
    max_question_chars: int
    easy_model: str
    hard_model: str
    max_tokens: int
    canary: str
    canaries: tuple[str, ...]
    """Every marker an answer must never carry: the canary, extra ones, an eval's secrets."""
    deadlines: Mapping[str, Deadlines]
    """Per tier (``easy``, ``hard``): the model call's deadlines."""
    keepalive_s: float
    log_text: bool
    uses_model: bool
    """False on the embedded ``faq`` provider: every answer comes from the KB."""


@dataclass(frozen=True, slots=True)
class Services:
    config: PipelineConfig
    admission: Admission
    retriever: GuardedRetriever
    orders: OrderLookup
    router: Router
    conversations: ConversationStore
    cache: AnswerCache | None
    prompts: PromptSet
    policy: RedactionPolicy
    generator: ResilientGenerator
    filters: Sequence[FilterFactory]
    """Text filters every answer passes through, in order (the redactor first)."""
    planner: Planner
    metrics: Metrics
    tracer: Tracer
    accountant: Accountant
    turn_finished: Sequence[TurnFinished] = ()
    """Called once per answered turn, after accounting (a conversation store records it)."""
