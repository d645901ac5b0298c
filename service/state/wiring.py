"""Puts shared state under the pipeline's seams when ``state.backend`` is ``redis``.

Admission gets the shared rate limiter and slots (a replica falls back to its local share when
Redis fails), the answer cache keeps its answers in Redis, and the breakers share their verdicts
(``BreakerSync``). Conversations get the shared store and turn locks in ``build_services``, and
the app's lifespan takes the shared turn buffer and feedback store. Imported only for the
Redis backend, so the embedded default never loads the ``redis`` client.
"""

from __future__ import annotations

import dataclasses

from service.admission import Admission
from service.admission.control import local_gate
from service.observability.metrics import Metrics
from service.pipeline.services import Services
from service.settings import Settings
from service.state.answer_cache import SharedAnswerCache
from service.state.breakers import BreakerSync
from service.state.gate import SharedGate
from service.state.shared import SharedState


def share_state(
    services: Services, settings: Settings, shared: SharedState
) -> tuple[Services, SharedState]:
    """``services`` over Redis, and the shared state to check for readiness and to close."""
    metrics: Metrics = services.metrics
    local = local_gate(settings.admission, metrics, share=settings.state.local_share)
    admission = Admission(
        settings.admission,
        metrics,
        limiter=shared.rate_limiter,
        gate=SharedGate(shared.slots, local=local, metrics=metrics),
    )
    cache = services.cache
    if cache is not None:
        cache = SharedAnswerCache(
            shared.answers,
            max_entries=cache.answers.max_entries,
            ttl_s=cache.answers.ttl_s,
            metrics=metrics,
        )
    models = (settings.llm.easy_model, settings.llm.hard_model)
    sync = BreakerSync(shared.breakers, services.generator.breakers, models)
    sync.start()
    shared = dataclasses.replace(shared, breaker_sync=sync)
    return dataclasses.replace(services, admission=admission, cache=cache), shared
