"""``/metrics``: the DESIGN set, pre-initialised labels, buckets that fit, trace-id exemplars."""

from __future__ import annotations

from collections.abc import Callable

from service.observability.metrics import LATENCY_BUCKETS, OUTCOMES, ROUTES, TTFT_BUCKETS
from service.settings import LLMSettings, ObservabilitySettings, Settings
from tests.conftest import AppHandle
from tests.observability.scrape import scrape, scrape_families
from tests.sse_client import ask_sse

DESIGN_METRICS = {
    "beacon_requests": "counter",
    "beacon_request_duration_seconds": "histogram",
    "beacon_time_to_first_token_seconds": "histogram",
    "beacon_tokens": "counter",
    "beacon_cost_usd": "counter",
    "beacon_errors": "counter",
    "beacon_fallbacks": "counter",
    "beacon_in_flight_requests": "gauge",
    "beacon_queue_depth": "gauge",
    "beacon_shed": "counter",
    "beacon_retrieval_duration_seconds": "histogram",
    "beacon_retrieval_empty": "counter",
    "beacon_redactions": "counter",
    "beacon_refusals": "counter",
    "beacon_handoffs": "counter",
    "beacon_cache_requests": "counter",
}  # OpenMetrics family names: counters drop `_total`, their samples keep it


def test_every_design_metric_is_exposed_with_its_type(beacon: AppHandle) -> None:
    """The real /metrics output has every DESIGN metric, each with its type."""
    families = scrape_families(beacon.url)
    exposed = {name: families[name].type for name in DESIGN_METRICS if name in families}
    assert exposed == DESIGN_METRICS


def test_metrics_path_answers_without_a_redirect(beacon: AppHandle) -> None:
    """GET /metrics answers 200 itself (a mount would 307 to /metrics/)."""
    response = scrape(beacon.url)
    assert response.status_code == 200 and not response.history
    assert response.headers["content-type"].startswith("text/plain")


def test_closed_label_sets_are_preinitialised(beacon: AppHandle) -> None:
    """Before any traffic every route x outcome and every known error already reads zero."""
    families = scrape_families(beacon.url)
    requests = {
        (s.labels["route"], s.labels["outcome"]): s.value
        for s in families["beacon_requests"].samples
        if s.name == "beacon_requests_total"
    }
    assert requests == {(route, outcome): 0 for route in ROUTES for outcome in OUTCOMES}
    errors = {s.labels["code"] for s in families["beacon_errors"].samples}
    assert {"invalid_request", "body_too_large", "model_timeout", "internal_error"} <= errors
    ttft_models = {
        s.labels["model"] for s in families["beacon_time_to_first_token_seconds"].samples
    }
    assert ttft_models == {"faq", "beacon-easy", "beacon-hard"}


def test_buckets_span_the_configured_deadlines() -> None:
    """TTFT buckets reach from a FAQ answer (ms) to the first-token deadline, latency to total."""
    llm = LLMSettings()
    deadlines = Settings(_env_file=None).resilience  # type: ignore[call-arg]
    first_token_s = max(deadlines.easy.first_token_s, deadlines.hard.first_token_s)
    assert TTFT_BUCKETS[0] <= 0.005 and TTFT_BUCKETS[-1] >= first_token_s
    assert LATENCY_BUCKETS[0] <= 0.01 and LATENCY_BUCKETS[-1] >= llm.total_timeout_s
    assert list(TTFT_BUCKETS) == sorted(TTFT_BUCKETS)
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_ttft_exemplar_carries_the_trace_id_in_openmetrics(beacon: AppHandle) -> None:
    """A scraper asking for OpenMetrics sees the request's trace_id as the TTFT exemplar."""
    response, _ = ask_sse(beacon.url, "How do I request a refund?")
    trace_id = response.headers["x-trace-id"]
    negotiated = scrape(beacon.url, openmetrics=True)
    assert negotiated.headers["content-type"].startswith("application/openmetrics-text")
    families = scrape_families(beacon.url)
    exemplars = [
        s.exemplar
        for s in families["beacon_time_to_first_token_seconds"].samples
        if s.exemplar is not None
    ]
    assert [e.labels for e in exemplars] == [{"trace_id": trace_id}]
    assert 0 < exemplars[0].value < 5


def test_plain_text_exposition_has_no_exemplars(beacon: AppHandle) -> None:
    """The classic text format, which cannot carry exemplars, is served without them."""
    ask_sse(beacon.url, "How do I request a refund?")
    text = scrape(beacon.url).text
    assert "beacon_time_to_first_token_seconds_bucket" in text and "trace_id" not in text


def test_metrics_can_be_switched_off(beacon_factory: Callable[..., AppHandle]) -> None:
    """With metrics_enabled off requests are answered and nothing beacon_* is exposed."""
    beacon = beacon_factory(observability=ObservabilitySettings(metrics_enabled=False))
    _, events = ask_sse(beacon.url, "How do I request a refund?")
    assert events[-1].event == "done"
    assert "beacon_" not in scrape(beacon.url).text
