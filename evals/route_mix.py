"""Measure a route mix in-process: route a suite's questions the way ``/ask`` does, call no model.

Each question goes through the input guard, the FAQ search, ``choose_route`` (with FAQ-direct
on, so the ``faq`` share is the FAQ-direct saving) and ``plan_answer``. Input tokens are the
estimate of the real prompt the model would get (``estimate_prompt_tokens``); output tokens,
which only a model can tell, are the documented defaults of ``evals.cost_projection``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import yaml

from evals.cost_projection import DEFAULT_TOKENS, RouteProfile, TrafficProfile
from prompts.loader import load_prompts
from rag.knowledge import load_knowledge_base
from rag.language import detect_language
from rag.retriever import FaqRetriever
from service.pipeline.answer import AnswererConfig
from service.pipeline.generation import AnswerPlan, plan_answer
from service.pipeline.guard import GuardAction, inspect_question
from service.pipeline.redact import RedactionPolicy, load_redaction_policy
from service.pipeline.route import choose_route, extract_features
from service.resilience.token_estimate import estimate_prompt_tokens
from service.resources import build_retriever, route_thresholds
from service.settings import Settings

REGRESSION_SUITE = Path(__file__).with_name("suites") / "regression.yaml"


def load_questions(suite: Path) -> list[str]:
    cases = yaml.safe_load(suite.read_text(encoding="utf-8"))["cases"]
    return [str(case["question"]) for case in cases]


def measure_traffic(settings: Settings, *, suite: Path = REGRESSION_SUITE) -> TrafficProfile:
    questions = load_questions(suite)
    router = Router(settings)
    plans = [router.plan(question) for question in questions]
    by_route: dict[str, list[AnswerPlan | None]] = defaultdict(list)
    for route, plan in plans:
        by_route[route].append(plan)
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
    """The guard -> retrieve -> route -> plan half of the pipeline, over the configured KB."""

    def __init__(self, settings: Settings) -> None:
        kb = load_knowledge_base(settings.retrieval.kb_dir)
        self.retriever: FaqRetriever = build_retriever(settings, kb)
        self.prompts = load_prompts()
        self.policy: RedactionPolicy = load_redaction_policy()
        self.config = AnswererConfig(
            thresholds=replace(route_thresholds(settings), faq_direct=True),
            top_k=settings.retrieval.top_k,
            max_question_chars=settings.limits.max_question_chars,
            easy_model=settings.llm.easy_model,
            hard_model=settings.llm.hard_model,
            max_tokens=settings.llm.max_tokens,
            canary=settings.canary.get_secret_value(),
            log_text=False,
        )

    def plan(self, question: str) -> tuple[str, AnswerPlan | None]:
        """The route a question takes and its plan (None when the guard refuses it)."""
        verdict = inspect_question(
            question, max_chars=self.config.max_question_chars, policy=self.policy
        )
        if verdict.action is GuardAction.REFUSE:
            return "none", None
        evidence = self.retriever.search(verdict.normalized, k=self.config.top_k)
        features = extract_features(
            question, evidence, turn=1, conservative=verdict.action is GuardAction.CONSERVATIVE
        )
        decision = choose_route(features, self.config.thresholds)
        plan = plan_answer(
            decision=decision,
            evidence=evidence,
            question=question,
            lang=detect_language(question),
            prompts=self.prompts,
            config=self.config,
            ticket_id="HO-estimate",
            use_model=True,
        )
        return decision.route.value, plan
