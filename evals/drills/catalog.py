"""The drill catalog: one named failure per drill, and the degraded behaviour it demands.

Model faults come from the upstream simulator, either for every call of a model (a ``+fault``
suffix on its name in the settings: an outage) or for one request's first model call (the
``x-beacon-fault: model:<fault>`` header). In-process faults (index, retrieval, tool, router)
come from the same header, honoured because drills serve through ``evals.harness.serve --faults``.
Shared-state faults (Redis down, slow, flapping) come from a loopback proxy in front of a
throwaway ``redis-server`` (``state_drills.py``).
Every drill is also reconciled (``reconcile.py``) and followed by a health check.
"""

from __future__ import annotations

from collections.abc import Sequence

from evals.drills.conversation_drills import conversation_drills
from evals.drills.drill import Drill
from evals.drills.mixed import mixed_burst
from evals.drills.model_drills import model_drills, stream_drills
from evals.drills.service_drills import admission_drills, data_drills
from evals.drills.state_drills import state_drills


def catalog() -> list[Drill]:
    return [
        *model_drills(),
        *stream_drills(),
        *admission_drills(),
        *data_drills(),
        *conversation_drills(),
        *state_drills(),
        mixed_burst(),
    ]


def select(names: Sequence[str] | None) -> list[Drill]:
    drills = catalog()
    if not names:
        return drills
    known = {drill.name: drill for drill in drills}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise KeyError(f"unknown drill(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]
