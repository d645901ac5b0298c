"""``beacon serve`` as a real process for tests, on the demo index, its state under one folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evals.drills.service_process import BeaconProcess, start_beacon, wait_until_ready
from evals.drills.tcp_proxy import TcpProxy, run_tcp_proxy
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import SimulatorProcess, pick_free_port, start_simulator

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# The slow model's answer: forty distinct words and no digits, so no checkable claim and the
# grounding guard lets every word through as it arrives (~2 s at 20 tokens per second).
SLOW_ANSWER = " ".join(f"step{_LETTERS[i % 26]}{_LETTERS[i // 26]}" for i in range(40))


@contextmanager
def serve_beacon(index_dir: Path, work: Path, **settings: str) -> Iterator[BeaconProcess]:
    """Serve until the block exits; ``settings`` are ``BEACON_*`` variables; feedback and
    conversations are kept under ``work`` (never the checkout's ``var/``, which another test or
    an earlier run may have filled), the log in ``work/beacon.log``."""
    env = {
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir),
        "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
        "BEACON_FEEDBACK__DB_PATH": str(work / "feedback.sqlite"),
        "BEACON_CONVERSATIONS__PATH": str(work / "conversations.sqlite"),
        **settings,
    }
    port = pick_free_port("127.0.0.1")
    with start_beacon(env, port=port, log_path=work / "beacon.log") as beacon:
        wait_until_ready(beacon)
        yield beacon


@contextmanager
def slow_model() -> Iterator[SimulatorProcess]:
    """The upstream simulator answering ``SLOW_ANSWER``, slow enough to watch it arrive."""
    config = SimulatorConfig(ttft_ms=50, tokens_per_second=20, answer=SLOW_ANSWER)
    with start_simulator(config=config) as simulator:
        yield simulator


@contextmanager
def model_beacon_behind_proxy(
    upstream: SimulatorProcess, index_dir: Path, work: Path
) -> Iterator[TcpProxy]:
    """Beacon answering with ``upstream``'s model, reached through a proxy a test can cut."""
    settings = {"BEACON_PROVIDER": "openai", "BEACON_LLM__BASE_URL": upstream.openai_base_url}
    with (
        serve_beacon(index_dir, work, **settings) as beacon,
        run_tcp_proxy("127.0.0.1", beacon.port) as proxy,
    ):
        yield proxy
