"""Dependency aliases for the routers (``Annotated`` + ``Depends``, ending in ``Dep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.admission.caller import Caller
from service.observability.middleware import SCOPE_KEY, TraceContext, trace_context_for
from service.pipeline.services import Services
from service.resources import Resources

# ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, and
# three thread hops per request were 11% of a FAQ answer's CPU (profiled with py-spy).


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.state.resources
    return resources


async def get_services(request: Request) -> Services:
    services: Services = request.state.resources.services
    return services


async def get_trace(request: Request) -> TraceContext:
    trace: TraceContext | None = request.scope.get(SCOPE_KEY)
    return trace if trace is not None else trace_context_for(request.scope)


async def get_caller(request: Request) -> Caller:
    """The authenticated caller (401 otherwise), before the body is read or validated."""
    services: Services = request.state.resources.services
    return services.admission.authenticate(request.headers)


ResourcesDep = Annotated[Resources, Depends(get_resources)]
ServicesDep = Annotated[Services, Depends(get_services)]
TraceDep = Annotated[TraceContext, Depends(get_trace)]
CallerDep = Annotated[Caller, Depends(get_caller)]
