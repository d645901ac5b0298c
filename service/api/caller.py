"""``CallerDep``: who is calling (their API key's digest, or ``anonymous`` when keys are off).

Routes other than ``/ask`` that act on a caller's own data (feedback, resuming or cancelling a
turn) use it: the same keys as ``/ask``, and a turn started by one key is invisible to another.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.errors import Unauthorized


async def get_caller(request: Request) -> str:
    admission = request.state.resources.admission
    caller: str | None = admission.keys.identify(request.headers)
    if caller is None:
        admission.metrics.shed.labels("unauthorized").inc()
        raise Unauthorized()
    return caller


CallerDep = Annotated[str, Depends(get_caller)]
