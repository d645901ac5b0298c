"""The door's tests record answers for feedback: keep that file in the test's own folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from service.settings import FeedbackSettings
from tests.conftest import AppHandle


@pytest.fixture
def beacon(beacon_factory: Callable[..., AppHandle], tmp_path: Path) -> AppHandle:
    """Beacon on the embedded defaults, its feedback database under ``tmp_path``."""
    return beacon_factory(feedback=FeedbackSettings(db_path=tmp_path / "feedback.sqlite"))
