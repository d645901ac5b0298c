"""``beacon cost project``: the command-line face of ``evals.cost_projection``.

Import-light: the parser is built on every ``beacon`` call; the KB and index are loaded only
when a projection measures its route mix in-process.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_cost_command(commands: Any) -> None:
    """Register ``cost`` on ``beacon``'s subcommand parser."""
    cost = commands.add_parser("cost", help="model cost: projections from a route mix")
    actions = cost.add_subparsers(dest="cost_command", required=True)
    project = actions.add_parser(
        "project", help="daily and monthly cost at a traffic volume, with savings"
    )
    project.add_argument("--requests-per-day", type=_positive, required=True)
    project.add_argument(
        "--from-eval",
        type=Path,
        help="eval report JSON (its `routes`) or a route-mix JSON (default: route the "
        "regression suite in-process)",
    )
    project.add_argument(
        "--cache-hit-rate", type=_rate, help="share of requests the answer cache serves"
    )
    project.add_argument("--pricing", type=Path, help="pricing YAML (default: the shipped one)")
    project.add_argument("--json", type=Path, help="also write the projection as JSON here")
    project.set_defaults(handler=_project)


def _project(args: argparse.Namespace) -> int:
    from evals.cost_projection import (
        format_projection,
        load_traffic,
        project,
        with_cache_hit_rate,
    )
    from service.observability.cost import DEFAULT_PRICING_PATH, load_pricing

    pricing = load_pricing(args.pricing or DEFAULT_PRICING_PATH)
    if args.from_eval is not None:
        try:
            traffic = load_traffic(args.from_eval)
        except (OSError, ValueError, KeyError, TypeError) as error:
            sys.stderr.write(f"beacon cost project: cannot read {args.from_eval}: {error!r}\n")
            return 2
    else:
        from evals.route_mix import measure_traffic
        from service.settings import Settings

        traffic = measure_traffic(Settings())
    traffic = with_cache_hit_rate(traffic, args.cache_hit_rate)
    projection = project(traffic, requests_per_day=args.requests_per_day, pricing=pricing)
    sys.stdout.write(format_projection(projection))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(projection.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text}")
    return value
