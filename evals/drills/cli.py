"""``beacon drill run [--only NAME] [--json PATH]`` and ``beacon drill list``.

Import-light: the parser is built on every ``beacon`` call; the drills load only when they run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any


def add_drill_command(commands: Any) -> None:
    """Register ``drill`` on ``beacon``'s subcommand parser."""
    drill = commands.add_parser("drill", help="run the fault-injection drills")
    actions = drill.add_subparsers(dest="drill_command", required=True)
    run = actions.add_parser("run", help="run drills against real processes; exit 1 on failure")
    run.add_argument("--only", action="append", metavar="NAME", help="run this drill (repeatable)")
    run.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    run.add_argument("--work-dir", type=Path, help="keep index and service logs here")
    run.add_argument("--jobs", type=int, default=2, help="drills run side by side (default 2)")
    run.set_defaults(handler=_run)
    listing = actions.add_parser("list", help="list the drills")
    listing.set_defaults(handler=_list)


def _list(_: argparse.Namespace) -> int:
    from evals.drills.catalog import catalog

    for drill in catalog():
        sys.stdout.write(f"{drill.name:<30} {drill.summary}\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    import orjson

    from evals.drills.catalog import select
    from evals.drills.report import render_table, to_json
    from evals.drills.runner import run_drills

    try:
        drills = select(args.only)
    except KeyError as error:
        sys.stderr.write(f"{error.args[0]}\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="beacon-drills-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        work_dir.mkdir(parents=True, exist_ok=True)
        results = run_drills(drills, work_dir=work_dir, jobs=max(1, args.jobs), progress=_progress)
    sys.stdout.write(render_table(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_bytes(orjson.dumps(to_json(results), option=orjson.OPT_INDENT_2))
    return 0 if all(result.passed for result in results) else 1


def _progress(result: Any) -> None:
    verdict = "pass" if result.passed else "FAIL"
    sys.stderr.write(f"{result.drill.name}: {verdict} ({result.seconds:.1f} s)\n")
