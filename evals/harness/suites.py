"""The suites ``beacon eval run --suite NAME`` knows, and what each needs from the app it tests.

A suite is its cases plus the settings an in-process target must run with (``server_env``, as
``BEACON_*`` variables): the file suites use the demo KB as configured, while the dataset suites
build their own knowledge base (BANKING77) under the run's work directory. A suite that names an
``upstream`` is answered by a real model process: the eval starts the upstream simulator with that
config and points the in-process Beacon at it (``known_errors``: a model wrong on purpose).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from evals.harness.cases import Case, SuiteError, read_cases
from evals.upstream.config import Mode, SimulatorConfig

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


@dataclass(frozen=True)
class SuiteOptions:
    """How to materialise a suite: where it may write, with which embeddings, how many cases."""

    work_dir: Path
    embeddings: str = "hashing"
    sample: int | None = None


@dataclass(frozen=True)
class Suite:
    """A named list of cases and the settings an in-process target needs to answer them."""

    name: str
    cases: tuple[Case, ...]
    description: str = ""
    server_env: Mapping[str, str] = field(default_factory=dict)
    notes: Mapping[str, object] = field(default_factory=dict)
    upstream: SimulatorConfig | None = None
    """The simulated model the in-process target answers with (None: as configured)."""

    def sampled(self, n: int | None) -> Suite:
        """Keep a deterministic sample of ``n`` cases (all of them when ``n`` is None)."""
        if n is None or n >= len(self.cases):
            return self
        picked = sorted(random.Random(0).sample(range(len(self.cases)), n))
        return replace(self, cases=tuple(self.cases[i] for i in picked))


SuiteBuilder = Callable[[SuiteOptions], Suite]


def _file_suite(file_name: str, description: str) -> SuiteBuilder:
    def build(_: SuiteOptions) -> Suite:
        path = SUITES_DIR / file_name
        return Suite(name=path.stem, cases=tuple(read_cases(path)), description=description)

    return build


def _bitext(options: SuiteOptions) -> Suite:
    from evals.harness.datasets import bitext_suite

    return bitext_suite(options)


def _banking77(options: SuiteOptions) -> Suite:
    from evals.harness.datasets import banking77_suite

    return banking77_suite(options)


def _banking77_heldout(options: SuiteOptions) -> Suite:
    from evals.harness.datasets import banking77_heldout_suite

    return banking77_heldout_suite(options)


KNOWN_ERROR_RATE = 0.3
# Every in-scope question goes to the (wrong on purpose) model, and nothing is replayed from a
# cache; the service's grounding guard only observes, so the eval sees what the model said.
KNOWN_ERROR_ENV = {
    "BEACON_PROVIDER": "openai",
    "BEACON_ROUTER__FAQ_DIRECT": "false",
    "BEACON_CACHE__ENABLED": "false",
    "BEACON_GROUNDING__ACTION": "observe",
}


def _known_errors(_: SuiteOptions) -> Suite:
    path = SUITES_DIR / "known_errors.yaml"
    return Suite(
        name="known_errors",
        cases=tuple(read_cases(path)),
        description=f"demo KB questions answered by a model wrong in {KNOWN_ERROR_RATE:.0%} of "
        "answers; faithfulness must measure that share",
        server_env=KNOWN_ERROR_ENV,
        notes={"unfaithful_rate": KNOWN_ERROR_RATE},
        upstream=SimulatorConfig(
            ttft_ms=1.0,
            tokens_per_second=2000.0,
            mode=Mode.UNFAITHFUL,
            unfaithful_rate=KNOWN_ERROR_RATE,
        ),
    )


SUITE_BUILDERS: dict[str, SuiteBuilder] = {
    "smoke": _file_suite("smoke.yaml", "fast subset of regression, run by make test"),
    "regression": _file_suite("regression.yaml", "hand-written bilingual cases over the demo KB"),
    "kb_heldout": _file_suite("kb_heldout.yaml", "held-out paraphrases of every demo KB entry"),
    "multi_turn": _file_suite("multi_turn.yaml", "bilingual conversations of 2-4 turns"),
    "known_errors": _known_errors,
    "bitext": _bitext,
    "banking77": _banking77,
    "banking77_heldout": _banking77_heldout,
}


def suite_names() -> list[str]:
    """Every suite this harness can run itself."""
    return sorted(SUITE_BUILDERS)


def load_suite(name: str, options: SuiteOptions) -> Suite:
    """Build suite ``name`` (or read a suite file when ``name`` is a path)."""
    builder = SUITE_BUILDERS.get(name)
    if builder is None:
        path = Path(name)
        if path.suffix not in (".yaml", ".yml", ".jsonl") or not path.is_file():
            raise SuiteError(f"unknown suite {name!r}; choose from {suite_names()} or a file")
        builder = lambda _: Suite(name=path.stem, cases=tuple(read_cases(path)))  # noqa: E731
    options.work_dir.mkdir(parents=True, exist_ok=True)
    return builder(options).sampled(options.sample)
