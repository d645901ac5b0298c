"""``POST /ask``: stream an answer as Server-Sent Events, or return one JSON body."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from service.admission.keys import ANONYMOUS
from service.api.deps import AnswererDep, ResourcesDep, TraceDep
from service.errors import error_for_code, error_response
from service.pipeline.events import collect_answer
from service.schemas import AskRequest, AskResponse, ErrorBody
from service.sse import SSEResponse

router = APIRouter()

_ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 413, 422, 429, 502, 503, 504)}


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **_ERRORS},  # type: ignore[dict-item]
)
async def ask(
    body: AskRequest,
    request: Request,
    answerer: AnswererDep,
    resources: ResourcesDep,
    trace: TraceDep,
) -> Response:
    # Admission before any byte: 401, or 429 with Retry-After, when refused (never after).
    ticket = resources.admission.admit(request.headers)
    owner = resources.admission.keys.identify(request.headers) or ANONYMOUS
    events = answerer.stream(body, trace, ticket, owner=owner)
    if "application/json" not in request.headers.get("accept", ""):
        keepalive = resources.settings.limits.keepalive_s
        return SSEResponse(events, trace_id=trace.trace_id, keepalive_s=keepalive)
    answer = await collect_answer(events, trace.trace_id)
    if "error" in answer:
        return _json_error(answer, trace.trace_id)
    return JSONResponse(answer, headers={"x-trace-id": trace.trace_id})


def _json_error(answer: dict[str, object], trace_id: str) -> JSONResponse:
    """A stream that ended in ``error`` maps to that error's HTTP status in JSON mode."""
    payload = answer["error"]
    code = payload.get("code") if isinstance(payload, dict) else None
    return error_response(error_for_code(str(code)), trace_id)
