"""Run one pure-CPU scenario on its own: ``python -m evals.bench.<scenario> [--json PATH]``.

The scenario gives ``measure(profile)`` and ``rows(result)`` (the same rows ``beacon bench``
prints); this prints them as a Markdown table and saves the figures as JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from evals.bench.profile import PROFILES, Profile
from evals.bench.summary import describe_machine

Row = tuple[str, str, str, str, str]


def run_standalone(
    name: str,
    measure: Callable[[Profile], dict[str, Any]],
    rows: Callable[[dict[str, Any]], Iterator[Row]],
    argv: Sequence[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m evals.bench.{name}")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    args = parser.parse_args(argv)
    result = {"machine": describe_machine(), **measure(PROFILES[args.profile])}
    table = ["| measure | value | target | met |", "|---|---|---|---|"]
    table += [
        f"| {label} | {value} | {target} | {met} |" for _, label, value, target, met in rows(result)
    ]
    sys.stdout.write("\n".join(table) + "\n")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0
