"""A real Prometheus, run with the shipped config and rules, scrapes a running Beacon."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from service.settings import Settings
from tests.deploy.prometheus import PrometheusServer, render_config, run_prometheus
from tests.deploy.test_deploy import alert_rules
from tests.split_server import serve_split
from tests.sse_client import ask_sse

REQUESTS = 3


def poll(check: Callable[[], bool], *, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout_s}s")
        time.sleep(0.2)


def requests_seen(prometheus: PrometheusServer) -> float:
    result = prometheus.query('sum(beacon_requests_total{job="beacon"})')
    return float(result[0]["value"][1]) if result else -1.0


def test_prometheus_scrapes_requests_exemplars_and_loads_the_alerts(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """Traffic sent to Beacon's public port reads back through Prometheus' HTTP API, scraped
    from the internal port as deployed: the request count, a TTFT exemplar carrying one of the
    requests' trace ids, and all eight alert rules."""
    with serve_split(settings_factory(internal_port=1)) as beacon:
        scrape_and_query(beacon.public.url, beacon.internal.url, tmp_path)


def scrape_and_query(public_url: str, internal_url: str, tmp_path: Path) -> None:
    config = render_config(internal_url.removeprefix("http://"), tmp_path)
    with run_prometheus(config, workdir=tmp_path) as prometheus:
        trace_ids = set()
        for _ in range(REQUESTS):
            response, _ = ask_sse(public_url, "How do I request a refund?")
            trace_ids.add(response.headers["x-trace-id"])

        poll(lambda: requests_seen(prometheus) == REQUESTS, what="beacon_requests_total")
        (ok,) = prometheus.query('beacon_requests_total{route="faq",outcome="ok"}')
        assert ok["metric"]["job"] == "beacon" and float(ok["value"][1]) == REQUESTS

        def exemplar_trace_ids() -> set[str]:
            now = time.time()
            series = prometheus.api(
                "query_exemplars",
                query="beacon_time_to_first_token_seconds_bucket",
                start=str(now - 300),
                end=str(now + 60),
            )
            return {e["labels"]["trace_id"] for s in series for e in s["exemplars"]}

        poll(lambda: bool(exemplar_trace_ids()), what="a TTFT exemplar")
        assert exemplar_trace_ids() <= trace_ids

        groups = prometheus.api("rules", type="alert")["groups"]
        alerts = [rule["name"] for group in groups for rule in group["rules"]]
        assert sorted(alerts) == sorted(rule["alert"] for rule in alert_rules())
