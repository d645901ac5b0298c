"""Grade one answer against its case: a named pass/fail per check that applies to the case.

- ``no_error``: the stream ended in ``done`` (not ``error``, an HTTP error or a broken stream);
- ``top1``: the best retrieved entry is one of the expected entries;
- ``refusal``: refused when a refusal is expected, answered when an entry is expected;
- ``route``: the route is the expected one (only when the case names one);
- ``citations``: every cited FAQ entry was among the retrieved candidates (a tool result is not
  a retrieval candidate);
- ``must_include`` / ``must_not_include``: phrases in the answer, case-insensitive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evals.harness.cases import Case
from evals.harness.client import Observation

Checks = dict[str, bool]


def grade(case: Case, seen: Observation) -> Checks:
    """Return every check that applies to ``case`` and whether ``seen`` passed it."""
    checks: Checks = {"no_error": seen.error is None}
    expected = case.expected_entries
    if expected:
        top = seen.top_ids(1)
        checks["top1"] = bool(top) and top[0] in expected
    if case.expects_refusal or expected:
        checks["refusal"] = seen.refused == case.expects_refusal
    if case.expect_route:
        checks["route"] = seen.route == case.expect_route
    if seen.retrieved:
        retrieved = {entry for entry, _ in seen.retrieved}
        cited = [entry for entry, _ in seen.citations if entry not in seen.tool_citations]
        checks["citations"] = all(entry in retrieved for entry in cited)
    answer = seen.answer.casefold()
    if case.must_include:
        checks["must_include"] = all(p.casefold() in answer for p in case.must_include)
    if case.must_not_include:
        checks["must_not_include"] = not any(p.casefold() in answer for p in case.must_not_include)
    return checks


@dataclass
class CaseResult:
    """A case, every attempt at it (one per repeat) and the checks of each attempt."""

    case: Case
    attempts: list[Observation] = field(default_factory=list)
    checks: list[Checks] = field(default_factory=list)

    def add(self, seen: Observation) -> None:
        """Record one attempt and grade it."""
        self.attempts.append(seen)
        self.checks.append(grade(self.case, seen))

    @property
    def passes(self) -> int:
        """How many attempts passed every check."""
        return sum(all(checks.values()) for checks in self.checks)

    @property
    def passed(self) -> bool:
        """Every attempt passed."""
        return self.passes == len(self.attempts)

    @property
    def failed(self) -> bool:
        """Every attempt failed: a consistent failure, the only kind the gate counts."""
        return self.passes == 0

    @property
    def flaky(self) -> bool:
        """Some attempts passed and some failed."""
        return not self.passed and not self.failed

    def failed_checks(self) -> list[str]:
        """The checks that failed in at least one attempt, in check order."""
        names = dict.fromkeys(
            name for checks in self.checks for name, ok in checks.items() if not ok
        )
        return list(names)

    def consistent(self) -> bool:
        """All attempts agree on verdict, route and best entry."""
        signatures = {
            (all(checks.values()), seen.route, tuple(seen.top_ids(1)))
            for seen, checks in zip(self.attempts, self.checks, strict=True)
        }
        return len(signatures) <= 1


def flatten(results: Sequence[CaseResult]) -> list[tuple[Case, Observation, Checks]]:
    """Every attempt of every case, with its case and checks."""
    return [
        (result.case, seen, checks)
        for result in results
        for seen, checks in zip(result.attempts, result.checks, strict=True)
    ]
