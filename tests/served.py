"""``beacon serve`` as a real process for tests, on the demo index, its state under one folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evals.drills.service_process import BeaconProcess, start_beacon, wait_until_ready
from evals.upstream.process import pick_free_port


@contextmanager
def serve_beacon(index_dir: Path, work: Path, **settings: str) -> Iterator[BeaconProcess]:
    """Serve until the block exits; ``settings`` are ``BEACON_*`` variables; feedback is kept
    in ``work/feedback.sqlite`` and the log in ``work/beacon.log``."""
    env = {
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir),
        "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
        "BEACON_FEEDBACK__DB_PATH": str(work / "feedback.sqlite"),
        **settings,
    }
    port = pick_free_port("127.0.0.1")
    with start_beacon(env, port=port, log_path=work / "beacon.log") as beacon:
        wait_until_ready(beacon)
        yield beacon
