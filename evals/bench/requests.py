"""The requests the scenarios send: to Beacon's ``/ask`` and straight to the simulator."""

from __future__ import annotations

from typing import Any

from rag.knowledge import load_knowledge_base
from service.settings import DEFAULT_KB_DIR

BEACON_TOKEN_MARKER = "event: token\n"
SIMULATOR_TOKEN_MARKER = '"delta":{"content":'
QUESTIONS = {"zh": "怎么申请退款？", "en": "How do I request a refund?"}
JSON_HEADERS = {"content-type": "application/json"}


def ask(base_url: str, question: str, *, accept_json: bool = False) -> dict[str, Any]:
    headers = dict(JSON_HEADERS)
    if accept_json:
        headers["accept"] = "application/json"
    return {
        "base_url": base_url,
        "path": "/ask",
        "headers": headers,
        "json": {"question": question},
        "marker": BEACON_TOKEN_MARKER,
    }


def chat(base_url: str, question: str, *, answer: str | None = None) -> dict[str, Any]:
    """A streamed chat completion straight to the simulator (``answer`` pins its text)."""
    headers = dict(JSON_HEADERS)
    if answer is not None:
        headers["x-sim-answer"] = answer
    return {
        "base_url": base_url,
        "path": "/v1/chat/completions",
        "headers": headers,
        "json": {
            "model": "beacon-easy",
            "messages": [{"role": "user", "content": question}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        "marker": SIMULATOR_TOKEN_MARKER,
    }


def faq_questions() -> list[str]:
    """Every canonical question of the demo KB, in both languages: a mix of FAQ answers."""
    kb = load_knowledge_base(DEFAULT_KB_DIR)
    return [entry.question[lang] for entry in kb for lang in ("en", "zh") if lang in entry.question]
