"""A documented token estimate for when the upstream reports no usage (a stream cut short by a
deadline, a fault or a disconnecting client): tiktoken would download its files at first use.

One token per Han character plus one per four other characters, and three per message for the
chat format, as in OpenAI's own rule of thumb. It is an estimate; reported usage always wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from service.providers.base import ChatMessage

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


def estimate_text_tokens(text: str) -> int:
    han = len(_HAN.findall(text))
    return han + math.ceil((len(text) - han) / 4)


def estimate_prompt_tokens(messages: Iterable[ChatMessage]) -> int:
    return TOKENS_PER_REPLY + sum(
        TOKENS_PER_MESSAGE + estimate_text_tokens(message.content) for message in messages
    )
