"""The benchmark's processes: Beacon pinned to core 0, the simulator and load generator on core 1.

Each Beacon configuration of a run is started once (``Fleet.beacon``) and reused by every
scenario that needs it. ``cpu_seconds`` reads the process's user + system time from
``/proc/<pid>/stat``, so server CPU per token is measured on the real server process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from evals.redis_server import RedisServer, start_redis_server
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import (
    child_environment,
    pick_free_port,
    read_output,
    stop_process,
    wait_for_http,
)

SERVER_CORE = 0
CLIENT_CORE = 1
STARTUP_TIMEOUT_S = 60.0
HOST = "127.0.0.1"


class BenchProcessError(RuntimeError):
    """A benchmark process failed to start or to finish its job; carries its output."""


def pinned(command: list[str], core: int | None) -> list[str]:
    """Prefix ``command`` with ``taskset -c core`` (all its threads inherit the pinning)."""
    if core is None or shutil.which("taskset") is None or (os.cpu_count() or 1) <= core:
        return command
    return ["taskset", "-c", str(core), *command]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from ``/proc/<pid>/stat``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the file)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ServiceProcess:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def wait_until_healthy(
    service: ServiceProcess, output: IO[bytes], *, path: str, timeout_s: float
) -> None:
    problem = wait_for_http(f"{service.base_url}{path}", service.process, timeout_s=timeout_s)
    if problem is not None:
        raise BenchProcessError(f"process {problem}:\n{read_output(output)[-4000:]}")


@contextmanager
def run_service(
    command: list[str], *, env: Mapping[str, str], core: int | None, health_path: str
) -> Iterator[ServiceProcess]:
    """Run ``command --host --port`` pinned to ``core`` until the block exits."""
    with launched(command, env=env, core=core) as (service, output):
        wait_until_healthy(service, output, path=health_path, timeout_s=STARTUP_TIMEOUT_S)
        yield service


@contextmanager
def launched(
    command: list[str], *, env: Mapping[str, str], core: int | None
) -> Iterator[tuple[ServiceProcess, IO[bytes]]]:
    port = pick_free_port(HOST)
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            pinned([*command, "--host", HOST, "--port", str(port)], core),
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**child_environment(), **env},
        )
        try:
            yield ServiceProcess(process, port), output
        finally:
            stop_process(process)


def pin_threads(pid: int, core: int) -> None:
    """Pin every thread of a running process to ``core`` (``taskset -a``)."""
    if shutil.which("taskset") is not None and (os.cpu_count() or 1) > core:
        command = ["taskset", "-a", "-p", "-c", str(core), str(pid)]
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)


def beacon_environment(settings: Mapping[str, Any], index_dir: Path) -> dict[str, str]:
    """``{"llm": {"client": "direct"}}`` -> ``{"BEACON_LLM__CLIENT": "direct"}``, plus the
    prebuilt index and admission limits high enough that the benchmark measures the answer
    path, not the shedding of load."""
    env = {
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir),
        "BEACON_RETRIEVAL__BUILD_IF_MISSING": "false",
        "BEACON_ADMISSION__MAX_IN_FLIGHT": "4096",
        "BEACON_ADMISSION__MAX_QUEUE": "4096",
    }
    env.update(flatten("BEACON", settings))
    return env


def flatten(prefix: str, settings: Mapping[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}_{key.upper()}" if prefix == "BEACON" else f"{prefix}__{key.upper()}"
        if isinstance(value, Mapping):
            env.update(flatten(name, value))
        else:
            env[name] = value if isinstance(value, str) else orjson.dumps(value).decode()
    return env


class Fleet:
    """Starts processes on first use and stops them all when the run ends."""

    def __init__(self, *, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._stack = ExitStack()
        self._beacons: dict[bytes, ServiceProcess] = {}
        self._simulators: dict[SimulatorConfig, ServiceProcess] = {}
        self._redis: RedisServer | None = None

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self._stack.close()

    def beacon(self, settings: Mapping[str, Any]) -> ServiceProcess:
        return self.beacons([settings])[0]

    def beacons(self, configs: list[Mapping[str, Any]]) -> list[ServiceProcess]:
        """Beacons for ``configs``, the missing ones started side by side (startup is the slow
        part of a short run), then pinned with all their threads to the server core."""
        return self._started([(settings, 0, SERVER_CORE) for settings in configs])

    def replicas(self, settings: Mapping[str, Any], count: int) -> list[ServiceProcess]:
        """``count`` Beacons with the same ``settings`` (the first is ``beacon(settings)``),
        each pinned to its core in ``replica_cores(count)``."""
        cores = replica_cores(count)
        return self._started([(settings, n, cores[n]) for n in range(count)])

    def _started(self, wanted: list[tuple[Mapping[str, Any], int, int]]) -> list[ServiceProcess]:
        keys = [_key(settings, replica) for settings, replica, _ in wanted]
        starting = []
        for key, (settings, _, core) in zip(keys, wanted, strict=True):
            if key not in self._beacons:
                command = [sys.executable, "-m", "service.cli", "serve"]
                env = beacon_environment(settings, self.index_dir)
                service, output = self._stack.enter_context(launched(command, env=env, core=None))
                self._beacons[key] = service
                starting.append((service, output, core))
        for service, output, core in starting:
            wait_until_healthy(service, output, path="/readyz", timeout_s=STARTUP_TIMEOUT_S)
            pin_threads(service.pid, core)
        return [self._beacons[key] for key in keys]

    def redis(self) -> RedisServer:
        """One throwaway ``redis-server`` for the run, on the client core (beside the load
        generator, so that Beacon's core serves only Beacon)."""
        if self._redis is None:
            self._redis = self._stack.enter_context(start_redis_server())
            pin_threads(self._redis.process.pid, CLIENT_CORE)
        return self._redis

    def simulator(self, config: SimulatorConfig) -> ServiceProcess:
        if config not in self._simulators:
            command = [sys.executable, "-m", "evals.upstream", *config.to_cli_args()]
            self._simulators[config] = self._stack.enter_context(
                run_service(command, env={}, core=CLIENT_CORE, health_path="/healthz")
            )
        return self._simulators[config]


def replica_cores(count: int) -> list[int]:
    """Cores for ``count`` replicas: the server core first, then every core the load generator
    does not use, in turn (on a 2-core machine every replica shares core 0)."""
    cores = [SERVER_CORE, *(n for n in range(os.cpu_count() or 1) if n not in _RESERVED)]
    return [cores[n % len(cores)] for n in range(count)]


_RESERVED = (SERVER_CORE, CLIENT_CORE)


def _key(settings: Mapping[str, Any], replica: int) -> bytes:
    key = orjson.dumps(settings, option=orjson.OPT_SORT_KEYS)
    return key if replica == 0 else key + f"#{replica}".encode()


def run_loadgen(job: Mapping[str, Any], *, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run one load-generator job in its own process on the client core; return its result."""
    command = pinned([sys.executable, "-m", "evals.bench.loadgen"], CLIENT_CORE)
    completed = subprocess.run(
        command,
        input=orjson.dumps(job),
        capture_output=True,
        env=child_environment(),
        timeout=timeout_s,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchProcessError(f"load generator failed:\n{completed.stderr.decode()[-4000:]}")
    result: dict[str, Any] = orjson.loads(completed.stdout)
    return result
