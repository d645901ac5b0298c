"""Read a live Beacon's ``/metrics`` as Prometheus would: text or OpenMetrics exposition."""

from __future__ import annotations

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


def scrape(base_url: str, *, openmetrics: bool = False) -> httpx.Response:
    headers = {"accept": OPENMETRICS} if openmetrics else {}
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10)
    response.raise_for_status()
    return response


def scrape_families(base_url: str) -> dict[str, Metric]:
    """Metric families by name, parsed from the OpenMetrics exposition (exemplars included)."""
    text = scrape(base_url, openmetrics=True).text
    families = text_string_to_metric_families(text)  # type: ignore[no-untyped-call]
    return {family.name: family for family in families}


def sample_names(base_url: str) -> set[str]:
    """Every sample name in the exposition: ``x_total``, ``y_bucket``, ``y_sum``, ``y_count``..."""
    return {
        sample.name for family in scrape_families(base_url).values() for sample in family.samples
    }
