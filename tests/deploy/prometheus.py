"""The Debian Prometheus binaries for the deploy tests: promtool, and a real server on loopback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from evals.upstream.process import pick_free_port, stop_process, wait_for_http

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def render_config(target: str, into: Path, *, scrape_interval: str = "1s") -> Path:
    """The shipped prometheus.yml, scraping ``target`` every ``scrape_interval``, with the
    shipped alert rules beside it."""
    config: dict[str, Any] = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "beacon"]
    job.update(scrape_interval=scrape_interval, scrape_timeout=scrape_interval)
    job["static_configs"] = [{"targets": [target]}]
    shutil.copy(PROMETHEUS_DIR / "alerts.yml", into / "alerts.yml")
    path = into / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@dataclass(frozen=True)
class PrometheusServer:
    url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def api(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=5)
        response.raise_for_status()
        return response.json()["data"]


@contextmanager
def run_prometheus(config: Path, *, workdir: Path) -> Iterator[PrometheusServer]:
    """Prometheus on a free loopback port until the block exits; always stopped, then killed."""
    port = pick_free_port("127.0.0.1")
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--enable-feature=exemplar-storage",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        server = PrometheusServer(url=f"http://127.0.0.1:{port}")
        wait_until_ready(server, process, workdir / "prometheus.log")
        yield server
    finally:
        stop_process(process, timeout_s=10)
        log.close()


def wait_until_ready(
    server: PrometheusServer, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 30
) -> None:
    problem = wait_for_http(f"{server.url}/-/ready", process, timeout_s=timeout_s, interval_s=0.1)
    if problem is not None:
        raise RuntimeError(f"prometheus {problem}:\n{log.read_text()}")
