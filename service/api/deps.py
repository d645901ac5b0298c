"""Dependency aliases for the routers (``Annotated`` + ``Depends``, ending in ``Dep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.observability.middleware import SCOPE_KEY, TraceContext, trace_context_for
from service.pipeline.answer import Answerer
from service.resources import Resources

# ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, and
# three thread hops per request were 11% of a FAQ answer's CPU (profiled with py-spy).


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.state.resources
    return resources


async def get_answerer(request: Request) -> Answerer:
    answerer: Answerer = request.state.resources.answerer
    return answerer


async def get_trace(request: Request) -> TraceContext:
    trace: TraceContext | None = request.scope.get(SCOPE_KEY)
    return trace if trace is not None else trace_context_for(request.scope)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
TraceDep = Annotated[TraceContext, Depends(get_trace)]
