"""Measure a route mix in-process: route a suite's questions the way ``/ask`` does, call no model.

Each question goes through Beacon's own ``plan()`` (guard, FAQ search, tool, route, compose,
with FAQ-direct on, so the ``faq`` share is the FAQ-direct saving). Input tokens are the
estimate of the real prompt the model would get (``estimate_prompt_tokens``); output tokens,
which only a model can tell, are the documented defaults of ``evals.cost_projection``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import yaml
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry

from evals.cost_projection import DEFAULT_TOKENS, RouteProfile, TrafficProfile
from prompts.loader import load_prompts
from rag.knowledge import load_knowledge_base
from service.admission.caller import Caller
from service.admission.keys import ANONYMOUS
from service.errors import InputRejected
from service.observability.metrics import Metrics
from service.observability.middleware import TraceContext
from service.pipeline.context import AskContext
from service.pipeline.plan import AnswerPlan, plan
from service.pipeline.redact import load_redaction_policy
from service.resilience.token_estimate import estimate_prompt_tokens
from service.resources import build_retriever, build_services
from service.schemas import AskRequest
from service.settings import CacheSettings, Settings

REGRESSION_SUITE = Path(__file__).with_name("suites") / "regression.yaml"


def load_questions(suite: Path) -> list[str]:
    cases = yaml.safe_load(suite.read_text(encoding="utf-8"))["cases"]
    return [str(case["question"]) for case in cases]


def measure_traffic(settings: Settings, *, suite: Path = REGRESSION_SUITE) -> TrafficProfile:
    questions = load_questions(suite)
    router = Router(settings)
    plans = [router.plan(question) for question in questions]
    by_route: dict[str, list[AnswerPlan | None]] = defaultdict(list)
    for route, answer_plan in plans:
        by_route[route].append(answer_plan)
    routes = {
        route: _profile(route, items, share=len(items) / len(plans))
        for route, items in by_route.items()
    }
    easy = routes.get("easy")
    if easy is None or easy.model == "faq":
        easy = RouteProfile(share=0.0, model=settings.llm.easy_model, tokens_in=350, tokens_out=120)
    return TrafficProfile(
        routes=routes,
        easy=easy,
        source=f"{suite.stem} suite, {len(plans)} questions routed in-process",
        notes=["output tokens are documented defaults: measure them with --from-eval"],
    )


def _profile(route: str, plans: list[AnswerPlan | None], *, share: float) -> RouteProfile:
    priced = [p for p in plans if p is not None and p.request is not None and p.model != "faq"]
    if not priced:
        free = "faq" if route == "faq" else "none"
        return RouteProfile(share=share, model=free, tokens_in=0, tokens_out=0)
    tokens_in = sum(estimate_prompt_tokens(p.request.messages) for p in priced if p.request)
    default = DEFAULT_TOKENS.get(route, DEFAULT_TOKENS["easy"])
    return RouteProfile(
        share=share,
        model=priced[0].model,
        tokens_in=tokens_in / len(priced),
        tokens_out=float(default["output"]),
    )


class Router:
    """Beacon's own ``plan()`` over the configured KB: guard, retrieval, tool, route, compose.

    Planned as if a model were configured (so easy/hard plans carry their real prompts) with
    FAQ-direct on and no answer cache; nothing is streamed and no model is called."""

    def __init__(self, settings: Settings) -> None:
        settings = settings.model_copy(update={"cache": CacheSettings(enabled=False)})
        kb = load_knowledge_base(settings.retrieval.kb_dir)
        policy = load_redaction_policy()
        canary = settings.canary.get_secret_value()
        services = build_services(
            settings,
            retriever=build_retriever(settings, kb),
            prompts=load_prompts(),
            metrics=Metrics(CollectorRegistry(), enabled=False),
            tracer_provider=TracerProvider(sampler=ALWAYS_OFF),
            policy=policy,
            canaries=(canary,),
        )
        config = services.config
        thresholds = replace(config.thresholds, faq_direct=True)
        self.services = replace(
            services, config=replace(config, thresholds=thresholds, uses_model=True)
        )

    def plan(self, question: str) -> tuple[str, AnswerPlan | None]:
        """The route a question takes and its plan (None when the guard refuses it)."""
        return asyncio.run(self._plan(question))

    async def _plan(self, question: str) -> tuple[str, AnswerPlan | None]:
        trace = TraceContext(trace_id="0" * 31 + "1", span_id="0" * 15 + "1")
        context = AskContext(self.services, trace, Caller(ANONYMOUS))
        try:
            answer_plan = await plan(AskRequest(question=question), context)
        except InputRejected:
            return "none", None
        if answer_plan.admitted is not None:
            answer_plan.admitted.release()
        return answer_plan.route, answer_plan
