"""Fixtures for the pipeline tests, and the Hypothesis profiles they run under.

`HYPOTHESIS_PROFILE=nightly` runs the property tests with 10,000 examples each; the default `ci`
profile keeps the whole directory well under a minute.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from service.pipeline.redact import RedactionPolicy, load_redaction_policy

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def policy() -> RedactionPolicy:
    """The shipped redaction policy."""
    return load_redaction_policy()
