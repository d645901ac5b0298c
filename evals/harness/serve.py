"""``python -m evals.harness.serve``: a Beacon with the drill and eval scaffolding installed.

``beacon drill`` and ``beacon eval`` start the service under test through this entry point:
``--faults`` installs the fault wrappers and honours ``x-beacon-fault``; ``--eval-system-prompts
FILE`` installs the injection eval's per-case prompts and secrets. Settings come from
``BEACON_*`` as for ``beacon serve``, which can reach none of this.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from service.app import Harness, create_app
from service.cli import run_app
from service.settings import Settings


def build_harness(*, faults: bool, eval_system_prompts: Path | None) -> Harness:
    harness = Harness()
    if faults:
        from evals.drills.faults import drill_harness

        harness = drill_harness()
    if eval_system_prompts is not None:
        from evals.harness.eval_prompts import eval_harness

        harness = combine(harness, eval_harness(eval_system_prompts))
    return harness


def combine(first: Harness, second: Harness) -> Harness:
    """Both harnesses: ``first``'s service wrapper runs first."""

    def wrap(services):  # type: ignore[no-untyped-def]
        for harness in (first, second):
            if harness.wrap_services is not None:
                services = harness.wrap_services(services)
        return services

    return dataclasses.replace(
        first,
        wrap_services=wrap,
        middleware=(*first.middleware, *second.middleware),
        canaries=(*first.canaries, *second.canaries),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.harness.serve", description=__doc__)
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--eval-system-prompts", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    harness = build_harness(faults=args.faults, eval_system_prompts=args.eval_system_prompts)
    run_app(create_app(settings, harness=harness), settings, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
