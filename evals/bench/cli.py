"""The ``beacon bench`` subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from evals.bench.profile import PROFILES

SCENARIO_NAMES = (
    "overhead",
    "streams",
    "throughput",
    "retrieval",
    "observability",
    "redactor",
    "redos",
    "grounding",
    "clients",
    "state",
    "replicas",
)


def add_bench_command(commands: Any) -> None:
    """Register ``bench`` on the ``beacon`` parser's subcommands."""
    bench = commands.add_parser(
        "bench",
        help="benchmark Beacon against the simulator (Beacon on core 0, load on core 1)",
    )
    bench.add_argument("scenario", nargs="?", choices=SCENARIO_NAMES, default=None)
    bench.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    bench.add_argument("--profile", choices=sorted(PROFILES), default="full")
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from evals.bench.runner import main

    return main(args.scenario, json_path=args.json, profile_name=args.profile)
