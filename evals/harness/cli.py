"""``beacon eval run | list``: the command-line face of the eval harness.

Kept import-light: the parser is built on every ``beacon`` call, the harness is imported only
when an eval actually runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_eval_command(commands: Any) -> None:
    """Register ``eval`` on ``beacon``'s subcommand parser."""
    evaluation = commands.add_parser("eval", help="run regression eval suites and gate them")
    actions = evaluation.add_subparsers(dest="eval_command", required=True)
    run = actions.add_parser("run", help="run a suite against an in-process app or a URL")
    run.add_argument("--suite", required=True, help="suite name (see `beacon eval list`) or file")
    run.add_argument("--target", help="base URL of a live Beacon (default: start one here)")
    run.add_argument("--baseline", type=Path, help="baseline file (default evals/baselines/)")
    run.add_argument("--report", type=Path, help="report directory (default var/eval/reports/)")
    run.add_argument("--repeats", type=_positive, default=1, help="ask every case N times")
    run.add_argument("--concurrency", type=_positive, default=4, help="requests in flight")
    run.add_argument("--update-baseline", action="store_true", help="write this run as baseline")
    run.add_argument("--embeddings", choices=["hashing", "minilm", "openai"], default=None)
    run.add_argument("--sample", type=_positive, help="run a fixed sample of N cases")
    run.add_argument("--requests-per-day", type=_positive, default=10_000)
    run.add_argument("--work-dir", type=Path, default=Path("var/eval"))
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    run.set_defaults(handler=_run)
    listing = actions.add_parser("list", help="list the suites")
    listing.set_defaults(handler=_list)
    from evals.feedback_cli import add_feedback_command

    add_feedback_command(actions)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _list(_: argparse.Namespace) -> int:
    from evals.harness.evaluation import EXTERNAL_SUITES
    from evals.harness.suites import SUITE_BUILDERS

    for name in sorted({*SUITE_BUILDERS, *EXTERNAL_SUITES}):
        sys.stdout.write(f"{name}\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    from evals.harness.cases import SuiteError
    from evals.harness.evaluation import EvalOptions, external_suite, run_eval
    from evals.harness.target import TargetUnavailable
    from rag.embeddings import EmbeddingsUnavailable

    external = external_suite(args.suite)
    if external is not None:
        return external(
            target=args.target,
            report_dir=args.report,
            baseline=args.baseline,
            update_baseline=args.update_baseline,
            repeats=args.repeats,
            concurrency=args.concurrency,
        )
    options = EvalOptions(
        suite=args.suite,
        target=args.target,
        baseline=args.baseline,
        report_dir=args.report,
        repeats=args.repeats,
        concurrency=args.concurrency,
        update_baseline=args.update_baseline,
        embeddings=args.embeddings,
        sample=args.sample,
        requests_per_day=args.requests_per_day,
        work_dir=args.work_dir,
        show_progress=not args.no_progress,
    )
    try:
        outcome = run_eval(options)
    except (SuiteError, TargetUnavailable, EmbeddingsUnavailable) as exc:
        sys.stderr.write(f"beacon eval: {exc}\n")
        return 2
    sys.stdout.write(_summary(outcome.report, outcome.paths))
    return outcome.exit_code


def _summary(report: dict[str, Any], paths: dict[str, Path] | Any) -> str:
    from evals.harness.reports.formatting import fmt, verdict

    figures = report["metrics"]
    keys = ["top1_hit_rate", "top3_hit_rate", "refusal_precision", "refusal_recall"]
    keys += ["answer_precision", "route_accuracy", "pass_rate", "faithfulness"]
    keys += ["ttft_p50_ms", "latency_p95_ms"]
    lines = [f"{report['suite']['name']}: {verdict(report)}"]
    lines += [f"  {key}: {fmt(figures.get(key), key)}" for key in keys]
    injected = (report.get("faithfulness") or {}).get("injected_unfaithful_share")
    if injected is not None:
        measured = report["faithfulness"]["measured_unfaithful_share"]
        lines.append(f"  unfaithful answers injected / measured: {injected:.1%} / {measured:.1%}")
    gate = report["gate"]
    if gate and gate["regressed_cases"]:
        lines.append(f"  regressed cases: {', '.join(gate['regressed_cases'][:20])}")
    if gate and gate["regressed_metrics"]:
        names = ", ".join(item["name"] for item in gate["regressed_metrics"])
        lines.append(f"  regressed metrics: {names}")
    lines += [f"  {kind}: {path}" for kind, path in paths.items()]
    return "\n".join(lines) + "\n"
