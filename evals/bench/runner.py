"""``beacon bench [SCENARIO] [--json PATH] [--profile full|smoke]``: run, print, write JSON.

All scenarios share one ``Fleet``: each Beacon configuration starts once per run, and the index
of the demo KB is built once into a temporary directory for every Beacon to load.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from evals.bench import (
    clients,
    grounding,
    overhead,
    redactor,
    redos,
    replicas,
    retrieval,
    state,
    streams,
    throughput,
)
from evals.bench.fleet import Fleet
from evals.bench.profile import PROFILES, Profile
from evals.bench.report import markdown
from evals.bench.summary import describe_machine
from rag.index import build_index
from rag.knowledge import load_knowledge_base
from service.settings import DEFAULT_KB_DIR

Scenario = Callable[[Fleet, Profile], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {
    "overhead": overhead.run,
    "streams": streams.run,
    "throughput": throughput.run,
    "retrieval": retrieval.run,
    "observability": throughput.run_observability,
    "redactor": redactor.run,
    "redos": redos.run,
    "grounding": grounding.run,
    "clients": clients.run,
    "state": lambda _fleet, profile: state.run(profile),
    "replicas": replicas.run,
}


def _loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def run_benchmarks(names: Sequence[str], profile: Profile) -> dict[str, Any]:
    """Run the named scenarios in order and return the whole report (JSON-ready)."""
    machine = {**describe_machine(), "loadavg_before": _loadavg()}
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="beacon-bench-") as tmp:
        index_dir = Path(tmp) / "index"
        build_index(
            load_knowledge_base(DEFAULT_KB_DIR), index_dir=index_dir, embeddings_name="hashing"
        )
        with Fleet(index_dir=index_dir) as fleet:
            for name in names:
                started = time.perf_counter()
                results[name] = SCENARIOS[name](fleet, profile)
                timings[name] = round(time.perf_counter() - started, 1)
    machine["loadavg_after"] = _loadavg()
    return {"profile": profile.name, "machine": machine, "scenarios": results, "wall_s": timings}


def main(scenario: str | None, *, json_path: Path | None, profile_name: str) -> int:
    names = [scenario] if scenario else list(SCENARIOS)
    report = run_benchmarks(names, PROFILES[profile_name])
    table = markdown(report)
    sys.stdout.write(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(orjson.dumps({**report, "table": table}, option=orjson.OPT_INDENT_2))
    return 0
