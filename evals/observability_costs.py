"""CPU per request of each observability part, measured in-process (``python -m
evals.observability_costs``): a companion to ``beacon bench observability``, which measures
the whole on/off throughput through real processes.

Single-threaded loops timed with ``time.process_time``, so other processes on the machine
disturb them less than a throughput run. Prints microseconds of CPU per request for: the
``ask_completed`` line (with and without the redaction processor), the metrics an answer
updates, the five ``beacon.*`` child spans, and the OpenTelemetry ASGI server span.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import Callable

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.types import Message

from service.observability.ask_record import Accountant, AskOutcome
from service.observability.cost import load_pricing
from service.observability.logging import configure_logging, redaction_processor
from service.observability.metrics import Metrics
from service.pipeline.redact import load_redaction_policy
from service.settings import ObservabilitySettings

ROUNDS = 5
LOOPS = 3000


def cpu_us(loop: Callable[[], None], *, loops: int = LOOPS) -> float:
    """Median over rounds of CPU microseconds per call, after a warm-up."""
    for _ in range(loops // 10):
        loop()
    samples = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(loops):
            loop()
        samples.append((time.process_time() - started) / loops * 1e6)
    return sorted(samples)[len(samples) // 2]


def finish_cost(*, metrics: bool, log: bool, redact: bool) -> float:
    policy = load_redaction_policy()
    processor = redaction_processor(policy, canaries=("canary",)) if redact else None
    configure_logging(
        ObservabilitySettings(log_level="info" if log else "warning"), redact=processor
    )
    accountant = Accountant(
        metrics=Metrics(CollectorRegistry(), enabled=metrics), pricing=load_pricing()
    )

    def finish() -> None:
        outcome = AskOutcome(
            trace_id=secrets.token_hex(16),
            span_id=secrets.token_hex(8),
            outcome="ok",
            latency_ms=2.5,
            route="faq",
            model="faq",
            retrieval_ids=("refund-request", "refund-track", "invoice-get"),
            retrieval_scores=(0.91, 0.15, 0.14),
            ttft_ms=2.0,
        )
        accountant.finish(outcome)

    return cpu_us(finish)


def child_spans_cost() -> float:
    tracer = TracerProvider().get_tracer("beacon")
    parent = otel_context.get_current()

    def spans() -> None:
        for name in ("beacon.guard", "beacon.retrieve", "beacon.route"):
            with tracer.start_as_current_span(name, context=parent) as span:
                span.set_attribute("beacon.detail", name)
        for name in ("beacon.generate", "beacon.redact"):
            tracer.start_span(name, context=parent).end()

    return cpu_us(spans)


def server_span_cost(*, instrumented: bool) -> float:
    app = FastAPI()

    @app.post("/ask")
    async def ask() -> dict[str, int]:
        return {"ok": 1}

    if instrumented:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=TracerProvider(), exclude_spans=["send", "receive"]
        )
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/ask", "raw_path": b"/ask", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"beacon"), (b"content-length", b"2")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(_: Message) -> None:
        return None

    loop = asyncio.new_event_loop()
    try:
        return cpu_us(lambda: loop.run_until_complete(app(dict(scope), receive, send)))
    finally:
        loop.close()


def main() -> int:
    sys.stdout.flush()
    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # the log lines under test go nowhere  # noqa: SIM115
    try:
        rows = {
            "account: log line (redacted) + metrics": finish_cost(
                metrics=True, log=True, redact=True
            ),
            "account: log line (not redacted) + metrics": finish_cost(
                metrics=True, log=True, redact=False
            ),
            "account: metrics only": finish_cost(metrics=True, log=False, redact=True),
            "account: nothing": finish_cost(metrics=False, log=False, redact=True),
            "five beacon.* child spans": child_spans_cost(),
            "ASGI request, FastAPI instrumented": server_span_cost(instrumented=True),
            "ASGI request, not instrumented": server_span_cost(instrumented=False),
        }
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    width = max(map(len, rows))
    for name, value in rows.items():
        sys.stdout.write(f"{name:<{width}}  {value:8.1f} us CPU per request\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
