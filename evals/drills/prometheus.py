"""Read a service's ``/metrics`` into plain numbers a drill can compare before and after."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

SampleKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class MetricSnapshot:
    samples: dict[SampleKey, float]

    def value(self, name: str, **labels: str) -> float:
        """The sum of every sample of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, sample_labels), value in self.samples.items()
            if sample == name and wanted <= sample_labels
        )


def scrape(base_url: str) -> MetricSnapshot:
    response = httpx.get(f"{base_url}/metrics", timeout=10.0)
    response.raise_for_status()
    samples: dict[SampleKey, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return MetricSnapshot(samples)


def delta(before: MetricSnapshot, after: MetricSnapshot, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)
