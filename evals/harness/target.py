"""Where the eval sends its questions: a live URL, or a ``beacon serve`` process of its own.

The in-process target is a real server in a child process on an ephemeral loopback port, so the
eval measures what a client would (and the client's own work does not share the server's GIL).
It is configured the way Beacon always is, through ``BEACON_*`` variables: the child inherits this
process's environment plus the suite's overrides, and its log lines (one ``ask_completed`` per
request, with the trace_ids the report cites) go to a file beside the report.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from evals.upstream.process import pick_free_port, stop_process, wait_for_http


class TargetUnavailable(RuntimeError):
    """The target did not become ready, or its process exited."""


@contextmanager
def served_beacon(
    env: Mapping[str, str],
    *,
    log_path: Path,
    ready_timeout_s: float = 900.0,
    harness_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run Beacon with ``env`` on top of this environment; yield its base URL.

    It is ``beacon serve``'s app, started through ``evals.harness.serve`` so that
    ``harness_args`` (e.g. ``--eval-system-prompts FILE``) can install eval scaffolding."""
    port = pick_free_port("127.0.0.1")
    child_env = {**os.environ, **env}
    command = [sys.executable, "-m", "evals.harness.serve", *harness_args, "--host", "127.0.0.1"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port)], env=child_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            # A large KB is indexed at startup (minutes with MiniLM on 10k rows): long deadline.
            problem = wait_for_http(
                f"{url}/readyz", process, timeout_s=ready_timeout_s, interval_s=0.1
            )
            if problem is not None:
                raise TargetUnavailable(f"beacon serve {problem}; see {log_path}")
            yield url
        finally:
            stop_process(process, timeout_s=15)


def check_live(url: str) -> None:
    """Fail fast when a live target does not answer ``/readyz``."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/readyz", timeout=5.0)
    except httpx.HTTPError as exc:
        raise TargetUnavailable(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise TargetUnavailable(f"{url}/readyz answered {response.status_code}")
