"""Expectations of the shared-state drills, read from what their stage observed (the readings
of ``beacon_state_up``, the Redis errors counted per phase) and from their phases' answers."""

from __future__ import annotations

from evals.drills.drill import Check, DrillRun


def state_up(label: str, equals: float) -> Check:
    """``beacon_state_up`` read ``equals`` at ``label`` (the stage waited for it)."""

    def check(run: DrillRun) -> list[str]:
        reading = run.observed.get("state_up", {}).get(label)
        if reading is None:
            return [f"beacon_state_up was not read at {label!r}"]
        if reading["value"] != equals:
            return [f"beacon_state_up = {reading['value']:g} at {label!r}, expected {equals:g}"]
        return []

    return check


def phase_state_errors(name: str, *, equals: float) -> Check:
    """Redis errors counted while phase ``name`` was sent."""

    def check(run: DrillRun) -> list[str]:
        phase = run.observed.get("phases", {}).get(name)
        if phase is None:
            return [f"phase {name} was not sent"]
        if phase["state_errors"] != equals:
            return [f"{phase['state_errors']:g} Redis errors during {name}, expected {equals:g}"]
        return []

    return check


def admitted(kind: str, *, count: int) -> Check:
    """Exactly ``count`` requests of ``kind`` were let in (and answered)."""

    def check(run: DrillRun) -> list[str]:
        let_in = [r for r in run.accepted if r.spec.kind == kind]
        return [] if len(let_in) == count else [f"{len(let_in)} {kind} admitted, expected {count}"]

    return check


def degraded_share(kind: str) -> Check:
    """Among the turns of ``kind``, some were answered statelessly and some with history."""

    def check(run: DrillRun) -> list[str]:
        turns = [r for r in run.accepted if r.spec.kind == kind]
        degraded = sum(1 for r in turns if (r.terminal or ("", {}))[1].get("degraded"))
        if not 0 < degraded < len(turns):
            return [f"{degraded} of {len(turns)} {kind} turns degraded, expected some, not all"]
        return []

    return check
