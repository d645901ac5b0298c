"""Drills on conversation memory: a store that cannot be used must not cost an answer."""

from __future__ import annotations

import orjson

from evals.drills import checks as c
from evals.drills.burst import EASY, burst
from evals.drills.drill import Drill

# A path under a regular file can never hold a database: the store is unavailable from the start.
UNUSABLE_STORE = "/dev/null/conversations.sqlite"
UNAVAILABLE = {"code": "conversations_unavailable", "layer": "data"}


def conversation_drills() -> list[Drill]:
    body = orjson.dumps({"question": EASY, "conversation_id": "drill-conversation"})
    return [
        Drill(
            "conversation_store_unavailable",
            "The conversation store cannot be opened: every turn is still answered, statelessly,"
            " degraded in done and its cause in the log line.",
            burst(EASY, 4, body=body),
            [
                c.answers(finish_reason="stop", degraded=UNAVAILABLE),
                c.events("meta", turn=1),  # no history to continue: each turn is the first
                c.log_lines(count=4, outcome="ok", error_code="conversations_unavailable"),
            ],
            settings={"BEACON_CONVERSATIONS__PATH": UNUSABLE_STORE},
            concurrency=2,
        )
    ]
