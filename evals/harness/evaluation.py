"""One eval run, end to end: build the suite, reach a target, ask, grade, gate, report.

``run_eval(EvalOptions(...))`` is what ``beacon eval run`` calls; it returns the report document
and the exit code (0 passed or no baseline, 1 regressed). Suites that run elsewhere (the
prompt-injection suite of :mod:`evals.injection`) are dispatched through ``EXTERNAL_SUITES``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.harness import baseline as gate
from evals.harness import faithfulness, metrics
from evals.harness.grading import CaseResult
from evals.harness.progress import Progress
from evals.harness.reports import write_reports
from evals.harness.reports.document import build_report
from evals.harness.runner import run_cases
from evals.harness.suites import Suite, SuiteOptions, load_suite
from evals.harness.target import check_live, served_beacon
from evals.upstream.process import SimulatorProcess, start_simulator
from service.settings import DEFAULT_KB_DIR

DEFAULT_WORK_DIR = Path("var/eval")
EXIT_PASSED, EXIT_REGRESSED = 0, 1

# Suites owned by another module: name -> "module:function". The function is called with the
# keyword arguments target, report_dir, baseline, update_baseline, repeats and concurrency, and
# returns the exit code. A suite whose module is not installed is reported as unavailable.
EXTERNAL_SUITES: dict[str, str] = {"injection": "evals.injection:main"}


# Router refusal thresholds calibrated on dev data (kb_heldout.yaml + dev_out_of_scope.yaml) per
# embeddings backend; the in-process target uses them unless BEACON_ROUTER__ANSWER_MIN_SCORE is set.
# The hashing value is the service default; dense scores run higher, so MiniLM needs its own.
DEV_CALIBRATED_ANSWER_MIN_SCORE = {"minilm": "0.43"}


@dataclass(frozen=True)
class EvalOptions:
    """Everything ``beacon eval run`` can be told."""

    suite: str
    target: str | None = None
    baseline: Path | None = None
    report_dir: Path | None = None
    repeats: int = 1
    concurrency: int = 4
    update_baseline: bool = False
    embeddings: str | None = None
    sample: int | None = None
    requests_per_day: int = 10_000
    work_dir: Path = DEFAULT_WORK_DIR
    server_env: Mapping[str, str] = field(default_factory=dict)
    show_progress: bool = True

    def resolved_embeddings(self) -> str:
        """The embeddings of the in-process target: the option, else BEACON_*, else hashing."""
        return self.embeddings or os.environ.get("BEACON_RETRIEVAL__EMBEDDINGS", "hashing")


@dataclass(frozen=True)
class EvalOutcome:
    report: dict[str, Any]
    exit_code: int
    paths: Mapping[str, Path]


def run_eval(options: EvalOptions) -> EvalOutcome:
    """Run one suite as ``options`` says, gate it, write its reports (and baseline if asked)."""
    embeddings = options.resolved_embeddings()
    suite = load_suite(
        options.suite,
        SuiteOptions(work_dir=options.work_dir, embeddings=embeddings, sample=options.sample),
    )
    report_dir = options.report_dir or _default_report_dir(options.work_dir, suite.name)
    started, clock = datetime.now(UTC), time.perf_counter()
    with _target(options, suite, embeddings, report_dir) as target:
        results = _ask(target.url, suite, options, after_warm_up=target.reset_upstream)
        upstream = target.upstream_stats()
    faithfulness.annotate(results, _evidence_library(options, suite))
    run = {
        "target": options.target or "in-process beacon serve",
        "embeddings": embeddings if options.target is None else "as served",
        "repeats": options.repeats,
        "concurrency": options.concurrency,
        "sample": options.sample,
        "started_at": started.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
        "settings": {**suite.server_env, **options.server_env},
    }
    figures = metrics.summarise(results)
    baseline_path = options.baseline or gate.default_path(suite.name, embeddings)
    verdict = _gate(options, figures, results, baseline_path)
    report = _report(suite, run, results, figures, verdict, options.requests_per_day)
    report["faithfulness"] = _faithfulness(results, figures, upstream)
    if options.update_baseline:
        previous = gate.load_baseline(baseline_path) if baseline_path.is_file() else None
        info = {"embeddings": run["embeddings"], "target": run["target"], "cases": len(results)}
        gate.write_baseline(
            baseline_path,
            suite=suite.name,
            metrics=figures,
            results=results,
            info=info,
            previous=previous,
        )
    paths = write_reports(report, report_dir)
    failed = verdict is not None and not verdict.passed and not options.update_baseline
    return EvalOutcome(report, EXIT_REGRESSED if failed else EXIT_PASSED, paths)


def _ask(
    url: str, suite: Suite, options: EvalOptions, *, after_warm_up: Callable[[], None]
) -> list[CaseResult]:
    progress = Progress(len(suite.cases) * options.repeats, label=suite.name)
    return asyncio.run(
        run_cases(
            url,
            suite.cases,
            repeats=options.repeats,
            concurrency=options.concurrency,
            progress=progress if options.show_progress else None,
            after_warm_up=after_warm_up,
        )
    )


def _evidence_library(options: EvalOptions, suite: Suite) -> faithfulness.EvidenceLibrary:
    """The KB the target answers from, as configured for it (the demo KB by default)."""
    env = {**os.environ, **suite.server_env, **options.server_env}
    return faithfulness.EvidenceLibrary.from_kb_dir(
        Path(env.get("BEACON_RETRIEVAL__KB_DIR", DEFAULT_KB_DIR))
    )


def _faithfulness(
    results: list[CaseResult], figures: Mapping[str, float | None], upstream: Mapping[str, Any]
) -> dict[str, Any]:
    """The report's faithfulness section; with a wrong-on-purpose model, the injected share
    (what the simulator corrupted) beside the measured one (what the checker found)."""
    section = faithfulness.faithfulness_section(results)
    answers = upstream.get("unfaithful_mode_answers")
    if answers:
        injected = 1 - answers.get("none", 0) / sum(answers.values())
        section["injected_unfaithful_share"] = round(injected, 4)
        section["injected_by_mutation"] = {k: v for k, v in answers.items() if k != "none"}
        measured = figures.get("faithfulness")
        section["measured_unfaithful_share"] = None if measured is None else round(1 - measured, 4)
    return section


def _report(
    suite: Suite,
    run: Mapping[str, Any],
    results: list[CaseResult],
    figures: Mapping[str, float | None],
    verdict: gate.GateResult | None,
    requests_per_day: int,
) -> dict[str, Any]:
    routes = metrics.route_table(results)
    return build_report(
        suite={"name": suite.name, "description": suite.description, **suite.notes},
        run=run,
        results=results,
        metrics=figures,
        routes=routes,
        cost=metrics.cost_projection(routes, requests_per_day=requests_per_day),
        breakdown={
            "lang": metrics.breakdown(results, lambda case: [case.lang]),
            "tag": metrics.breakdown(results, lambda case: case.tags),
        },
        scores=metrics.score_samples(results),
        gate=verdict.to_json() if verdict else None,
    )


def _gate(
    options: EvalOptions,
    figures: Mapping[str, float | None],
    results: list[CaseResult],
    path: Path,
) -> gate.GateResult | None:
    if not path.is_file():
        return None
    reference = gate.load_baseline(path)
    if options.sample is not None:  # a sample's figures are not the suite's: gate its cases
        reference = gate.without_metrics(reference)
    return gate.compare(reference, figures, results, baseline_path=str(path))


@dataclass(frozen=True)
class _Target:
    url: str
    simulator: SimulatorProcess | None = None

    def reset_upstream(self) -> None:
        if self.simulator is not None:
            self.simulator.reset_stats()

    def upstream_stats(self) -> dict[str, Any]:
        return self.simulator.stats() if self.simulator is not None else {}


@contextmanager
def _target(
    options: EvalOptions, suite: Suite, embeddings: str, report_dir: Path
) -> Iterator[_Target]:
    if options.target is not None:
        check_live(options.target)
        yield _Target(options.target.rstrip("/"))
        return
    if suite.upstream is None:
        with _served(options, suite, embeddings, report_dir, {}) as url:
            yield _Target(url)
        return
    with start_simulator(config=suite.upstream) as simulator:
        model = {"BEACON_LLM__BASE_URL": simulator.openai_base_url}
        with _served(options, suite, embeddings, report_dir, model) as url:
            yield _Target(url, simulator)


@contextmanager
def _served(
    options: EvalOptions,
    suite: Suite,
    embeddings: str,
    report_dir: Path,
    upstream_env: Mapping[str, str],
) -> Iterator[str]:
    defaults = {
        "BEACON_RETRIEVAL__EMBEDDINGS": embeddings,
        "BEACON_RETRIEVAL__INDEX_DIR": str(options.work_dir / f"index-{embeddings}"),
    }
    if embeddings in DEV_CALIBRATED_ANSWER_MIN_SCORE:
        defaults["BEACON_ROUTER__ANSWER_MIN_SCORE"] = DEV_CALIBRATED_ANSWER_MIN_SCORE[embeddings]
    inherited = {k: v for k, v in os.environ.items() if k.startswith("BEACON_")}
    env = {**defaults, **inherited, **suite.server_env, **options.server_env, **upstream_env}
    env["BEACON_RETRIEVAL__EMBEDDINGS"] = embeddings
    with served_beacon(env, log_path=report_dir / "server.log") as url:
        yield url


def _default_report_dir(work_dir: Path, suite: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return work_dir / "reports" / f"{suite}-{stamp}"


def external_suite(name: str) -> Callable[..., int] | None:
    """The runner of an externally owned suite, or None when ``name`` is not one."""
    spec = EXTERNAL_SUITES.get(name)
    if spec is None:
        return None
    module_name, _, function = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        sys.stderr.write(f"suite {name!r} is not available here ({module_name} is missing)\n")
        return lambda **_: 2
    runner: Callable[..., int] = getattr(module, function)
    return runner
