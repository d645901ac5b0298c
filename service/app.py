"""The application factory: ``create_app(settings)``; the lifespan owns every resource.

``harness`` is how ``beacon drill`` and ``beacon eval`` install their scaffolding (fault
wrappers, eval prompts, extra canaries) from outside; ``beacon serve`` never passes one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypedDict

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.api import ask, conversations, feedback, health, openai, turns, web
from service.api.protocol import document_events
from service.body_limit import BodyLimitMiddleware
from service.errors import InvalidRequest, ServiceError, error_response
from service.feedback import FeedbackStore, SQLiteFeedbackStore
from service.heap import freeze_startup_heap, thaw_heap
from service.internal_app import ResourceSlot, create_internal_app
from service.observability.exposition import MetricsEndpoint
from service.observability.logging import configure_logging, redaction_processor
from service.observability.metrics import Metrics
from service.observability.middleware import SCOPE_KEY, TraceContextMiddleware
from service.observability.rejection import record_rejection
from service.observability.span_redaction import RedactingSpanExporter
from service.observability.tracing import build_tracer_provider
from service.pipeline.canaries import extra_canaries
from service.pipeline.redact import load_redaction_policy
from service.resources import Resources, ServicesWrapper, build_resources
from service.settings import Settings
from service.turns import InProcessTurnBuffer, TurnBuffer, TurnLimits

log = structlog.get_logger("beacon.app")


class State(TypedDict):
    resources: Resources
    feedback: FeedbackStore
    turns: TurnBuffer


@dataclass(frozen=True, slots=True)
class Harness:
    """What a drill or an eval installs around a Beacon: never used by ``beacon serve``."""

    wrap_services: ServicesWrapper | None = None
    middleware: Sequence[Middleware] = ()
    canaries: tuple[str, ...] = ()
    """More markers the redactor blocks and the logs and spans hide (an eval's secrets)."""


def create_app(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    span_exporter: SpanExporter | None = None,
    harness: Harness | None = None,
) -> FastAPI:
    harness = harness or Harness()
    registry = registry if registry is not None else CollectorRegistry()
    metrics = Metrics(registry, enabled=settings.observability.metrics_enabled)
    policy = load_redaction_policy()
    canaries = (settings.canary.get_secret_value(), *extra_canaries(settings), *harness.canaries)
    configure_logging(settings.observability, redact=redaction_processor(policy, canaries=canaries))
    _warn_if_open_in_prod(settings)
    slot = ResourceSlot()  # for the internal app's /readyz
    tracer_provider = build_tracer_provider(
        settings.observability,
        exporter=span_exporter,
        redact=lambda inner: RedactingSpanExporter(inner, policy, canaries=canaries),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        resources = build_resources(
            settings,
            metrics=metrics,
            tracer_provider=tracer_provider,
            policy=policy,
            canaries=canaries,
            wrap=harness.wrap_services,
        )
        feedback_store, turn_buffer = feedback_and_turns(settings, resources)
        freeze_startup_heap()  # no 100 ms collections over startup objects mid-stream
        slot.resources = resources
        try:
            yield {"resources": resources, "feedback": feedback_store, "turns": turn_buffer}
        finally:
            slot.resources = None
            thaw_heap()
            await turn_buffer.aclose()
            await feedback_store.aclose()
            await resources.aclose()
            tracer_provider.shutdown()

    docs = settings.serves_api_docs  # off in prod unless asked for
    app = FastAPI(
        title="Beacon",
        summary="Customer-service answers with citations, streamed over SSE.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.metrics = metrics
    app.include_router(ask.router)
    app.add_api_route("/healthz", health.healthz, methods=["GET"])
    if settings.internal_port is None:
        app.add_api_route("/readyz", health.readyz, methods=["GET"])
        app.router.routes.append(
            Route("/metrics", MetricsEndpoint(registry), include_in_schema=False)
        )
    else:  # /metrics and /readyz on their own port only (service/internal_app.py)
        app.state.internal_app = create_internal_app(registry, slot)
    app.include_router(conversations.router)
    app.include_router(turns.router)
    app.include_router(feedback.router)
    app.include_router(openai.router)
    app.include_router(web.build_router())
    app.openapi = document_events(app)  # type: ignore[method-assign]  # per-event SSE schemas
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.limits.max_body_bytes,
        on_refuse=lambda error, trace_id, path: record_rejection(
            metrics, error, trace_id=trace_id, path=path, shed_reason=error.code
        ),
    )
    app.add_middleware(TraceContextMiddleware)
    if settings.web.allowed_origins:  # sites that embed the widget from another origin
        app.add_middleware(CORSMiddleware, **web.cors_options(settings.web.allowed_origins))
    for middleware in harness.middleware:
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    _add_error_handlers(app, metrics)
    if settings.observability.tracing_enabled:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=tracer_provider,
            exclude_spans=["send", "receive"],
            excluded_urls="/metrics,/healthz,/readyz",
        )
    return app


def _warn_if_open_in_prod(settings: Settings) -> None:
    """Prod runs open only by explicit choice, and says so at every start."""
    if settings.env != "prod":
        return
    if not settings.admission.keyed:
        log.warning(
            "anonymous_access_in_prod",
            reason="admission.allow_anonymous_in_prod is set: no API key is required",
        )
    if settings.internal_port is None:
        log.warning(
            "internal_endpoints_public",
            reason="internal_port is unset: /metrics and /readyz answer on the public port",
        )


def _trace_id(request: Request) -> str:
    trace = request.scope.get(SCOPE_KEY)
    return trace.trace_id if trace is not None else ""


def _add_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(part) for part in err["loc"][1:]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        fields = ", ".join(d["field"] or "body" for d in details)
        error = InvalidRequest(f"The request body is not valid ({fields}); see 'details'.")
        record_rejection(metrics, error, trace_id=_trace_id(request), path=request.url.path)
        return error_response(error, _trace_id(request), details=details)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        record_rejection(metrics, exc, trace_id=_trace_id(request), path=request.url.path)
        return error_response(exc, _trace_id(request))


def feedback_and_turns(
    settings: Settings, resources: Resources
) -> tuple[FeedbackStore, TurnBuffer]:
    """Shared by replicas in Redis (``state.backend=redis``), else a SQLite file and memory."""
    if resources.shared is not None:
        return resources.shared.feedback, resources.shared.turns
    feedback_store = SQLiteFeedbackStore(
        settings.feedback.db_path, answer_ttl_s=settings.feedback.answer_ttl_s
    )
    return feedback_store, InProcessTurnBuffer(TurnLimits(**settings.turns.model_dump()))
