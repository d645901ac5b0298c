"""Expectations a drill states about its run: terminal events, metrics, log lines, upstream.

Each helper returns a ``Check``: a function of the run that yields one message per broken
expectation, so a drill reads as a list of the behaviours it demands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from evals.drills.client import AskResult
from evals.drills.drill import Check, DrillRun

Expected = Any  # a value, or a predicate on the observed value


def answers(
    *,
    terminal: str = "done",
    kind: str | None = None,
    text: bool = True,
    **expected: Expected,
) -> Check:
    """Every answer read to its end (of ``kind``, if given) ends in ``terminal`` whose payload
    matches ``expected`` (``code``, ``layer``, ``finish_reason``, ``fallbacks``, ...)."""

    def check(run: DrillRun) -> Iterator[str]:
        chosen = [r for r in _read_to_end(run) if kind is None or r.spec.kind == kind]
        if not chosen:
            yield f"no answers{f' of kind {kind}' if kind else ''} to check"
        for result in chosen:
            name, payload = result.terminal or ("none", {})
            if name != terminal:
                yield f"{result.trace_id}: ended with {name}, expected {terminal}"
                continue
            yield from _compare(result.trace_id, payload, expected)
            if text and not result.text.strip():
                yield f"{result.trace_id}: no answer text"

    return check


def events(name: str, *, at_least: int = 1, kind: str | None = None, **expected: Expected) -> Check:
    """Every answer (of ``kind``) carries ``at_least`` events ``name`` matching ``expected``."""

    def check(run: DrillRun) -> Iterator[str]:
        for result in _read_to_end(run):
            if kind is not None and result.spec.kind != kind:
                continue
            found = result.named(name)
            if len(found) < at_least:
                yield f"{result.trace_id}: {len(found)} {name} events, expected >= {at_least}"
            for payload in found:
                yield from _compare(result.trace_id, payload, expected)

    return check


def terminals(name: str, *, count: int, **expected: Expected) -> Check:
    """Exactly ``count`` streams ended with ``name`` (matching ``expected``)."""

    def check(run: DrillRun) -> Iterator[str]:
        ended = [r for r in run.accepted if r.terminal and r.terminal[0] == name]
        if len(ended) != count:
            yield f"{len(ended)} streams ended with {name}, expected {count}"
        for result in ended:
            assert result.terminal is not None
            yield from _compare(result.trace_id, result.terminal[1], expected)

    return check


def queued(*, streams: int, positions: set[int]) -> Check:
    """Exactly ``streams`` answers waited in the queue, told their place among ``positions``."""

    def check(run: DrillRun) -> Iterator[str]:
        waited = [r for r in run.accepted if r.named("queued")]
        if len(waited) != streams:
            yield f"{len(waited)} streams got queued events, expected {streams}"
        for result in waited:
            seen = {int(event.get("position", 0)) for event in result.named("queued")}
            if not seen <= positions:
                yield f"{result.trace_id}: queue positions {sorted(seen)}, expected {positions}"

    return check


def refusals(*, status: int, code: str, count: int, retry_after: bool = True) -> Check:
    """Exactly ``count`` responses were refused with ``status``/``code`` before any byte."""

    def check(run: DrillRun) -> Iterator[str]:
        refused = [r for r in run.results if r.status == status]
        if len(refused) != count:
            yield f"{len(refused)} responses with status {status}, expected {count}"
        for result in refused:
            error = (result.body or {}).get("error", {})
            if error.get("code") != code:
                yield f"{result.trace_id}: refusal code {error.get('code')}, expected {code}"
            if retry_after and not (result.retry_after or "").isdigit():
                yield f"{result.trace_id}: no Retry-After on a {status}"

    return check


def refused(*, kind: str, status: int, code: str) -> Check:
    """Every request of ``kind`` was refused before any byte with ``status``/``code``."""

    def check(run: DrillRun) -> Iterator[str]:
        chosen = [r for r in run.results if r.spec.kind == kind]
        if not chosen:
            yield f"no requests of kind {kind} to check"
        for result in chosen:
            error = (result.body or {}).get("error", {})
            if (result.status, error.get("code")) != (status, code):
                yield f"{result.trace_id}: {result.status} {error.get('code')}, expected {status}"

    return check


def accepted(count: int) -> Check:
    """Exactly ``count`` requests were answered with a stream (status 200)."""

    def check(run: DrillRun) -> Iterator[str]:
        if len(run.accepted) != count:
            yield f"{len(run.accepted)} requests accepted, expected {count}"

    return check


def metric(
    name: str,
    *,
    equals: float | None = None,
    at_least: float | None = None,
    labels: Mapping[str, str] | None = None,
    **more_labels: str,
) -> Check:
    """The increment of ``name{labels}`` over the burst (``labels`` for names like ``from``)."""
    wanted = {**(labels or {}), **more_labels}

    def check(run: DrillRun) -> Iterator[str]:
        what = f"{name}{wanted or ''} increment"
        yield from _bound(what, run.delta(name, **wanted), equals, at_least)

    return check


def gauge(name: str, *, equals: float, **labels: str) -> Check:
    """The value of ``name{labels}`` once the burst has settled."""

    def check(run: DrillRun) -> Iterator[str]:
        yield from _bound(f"{name}{labels or ''}", run.after.value(name, **labels), equals, None)

    return check


def log_lines(*, count: int | None = None, **expected: Expected) -> Check:
    """Every ``ask_completed`` line matches ``expected`` (there are ``count`` of them)."""

    def check(run: DrillRun) -> Iterator[str]:
        lines = run.lines()
        if count is not None and len(lines) != count:
            yield f"{len(lines)} ask_completed lines, expected {count}"
        for line in lines:
            yield from _compare(line.get("trace_id", "?"), line, expected)

    return check


def upstream(stat: str, *, equals: float | None = None, at_least: float | None = None) -> Check:
    """A simulator counter over the burst (``requests_total.<fault>`` reaches into a dict)."""

    def check(run: DrillRun) -> Iterator[str]:
        value: Any = run.simulator
        for part in stat.split("."):
            value = value.get(part, 0) if isinstance(value, dict) else 0
        yield from _bound(f"simulator {stat}", float(value or 0), equals, at_least)

    return check


def latency(*, min_ms: float | None = None, max_ms: float | None = None) -> Check:
    """Every accepted request's wall time lies in ``[min_ms, max_ms]``."""

    def check(run: DrillRun) -> Iterator[str]:
        for result in run.accepted:
            if min_ms is not None and result.latency_ms < min_ms:
                yield f"{result.trace_id}: {result.latency_ms:.0f} ms < {min_ms:.0f} ms"
            if max_ms is not None and result.latency_ms > max_ms:
                yield f"{result.trace_id}: {result.latency_ms:.0f} ms > {max_ms:.0f} ms"

    return check


def upstream_closed_within(ms: float) -> Check:
    """After the last client left, the simulator saw every stream closed within ``ms``."""

    def check(run: DrillRun) -> Iterator[str]:
        if run.disconnect_close_ms is None:
            yield "no client disconnect was measured"
        elif run.disconnect_close_ms > ms:
            yield f"upstream streams closed {run.disconnect_close_ms:.0f} ms after the client left"

    return check


def prefix_of_healthy_answer() -> Check:
    """A broken answer is a prefix of the healthy one: nothing duplicated or spliced in."""

    def check(run: DrillRun) -> Iterator[str]:
        if run.health is None or not run.health.text:
            yield "no healthy answer to compare with"
            return
        for result in _read_to_end(run):
            if not run.health.text.startswith(result.text):
                yield f"{result.trace_id}: text is not a prefix of the healthy answer"

    return check


def _read_to_end(run: DrillRun) -> list[AskResult]:
    return [result for result in run.accepted if not result.disconnected]


def _compare(
    trace_id: str, payload: dict[str, Any], expected: dict[str, Expected]
) -> Iterator[str]:
    for key, want in expected.items():
        got = payload.get(key)
        ok = want(got) if callable(want) else got == want
        if not ok:
            yield f"{trace_id}: {key}={got!r}, expected {_describe(want)}"


def _bound(what: str, value: float, equals: float | None, at_least: float | None) -> Iterator[str]:
    if equals is not None and value != equals:
        yield f"{what} = {value:g}, expected {equals:g}"
    if at_least is not None and value < at_least:
        yield f"{what} = {value:g}, expected >= {at_least:g}"


def _describe(want: Expected) -> str:
    if callable(want):
        return getattr(want, "__doc__", None) or "a value passing the check"
    return repr(want)


def positive(value: Any) -> bool:
    """a positive number"""
    return isinstance(value, int | float) and value > 0


def at_least(bound: float) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int | float) and value >= bound

    check.__doc__ = f">= {bound:g}"
    return check
