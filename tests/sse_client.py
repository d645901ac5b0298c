"""A small, strict SSE reader for tests: frames are parsed as the event-stream spec says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class ReceivedEvent:
    id: str | None
    event: str
    data: dict[str, Any]


def parse_sse(raw: str) -> list[ReceivedEvent]:
    events: list[ReceivedEvent] = []
    for frame in raw.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in frame.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        if "data" in fields:
            events.append(
                ReceivedEvent(
                    id=fields.get("id", [None])[0],
                    event=fields.get("event", ["message"])[0],
                    data=orjson.loads("\n".join(fields["data"])),
                )
            )
    return events


def ask_sse(
    base_url: str, question: str, **body: Any
) -> tuple[httpx.Response, list[ReceivedEvent]]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post("/ask", json={"question": question, **body})
        return response, parse_sse(response.text)


def answer_text(events: list[ReceivedEvent]) -> str:
    return "".join(e.data["text"] for e in events if e.event == "token")
