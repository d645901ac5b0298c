"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from service.api.deps import ResourcesDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: the process answers HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(resources: ResourcesDep) -> JSONResponse:
    """Ready: the index is loaded and the provider is configured."""
    checks = {
        "index": len(resources.kb) > 0 and resources.retriever.kb_version == resources.kb.version,
        "provider": resources.provider is not None,
    }
    problems: dict[str, str] = {}
    if resources.shared is not None:
        problem = await resources.shared.ready()
        checks["shared_state"] = problem is None
        if problem is not None:
            problems["shared_state"] = problem
    status = 200 if all(checks.values()) else 503
    body: dict[str, object] = {
        "status": "ready" if status == 200 else "not_ready",
        "checks": checks,
        "kb_version": resources.kb.version,
        "prompt_version": resources.prompts.version,
        "provider": resources.provider.name,
    }
    if problems:
        body["problems"] = problems
    return JSONResponse(body, status_code=status)
