"""The embedded ``faq`` provider: streams the matched FAQ answers, deterministic, no network."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from service.errors import ProviderBadResponse
from service.providers.base import GenerationRequest, Usage

FAQ_MODEL = "faq"

# Roughly what a tokenizer yields: one or two CJK characters, or a word piece with its space.
_CHUNK = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff]{1,2}"  # CJK ideographs, two at a time
    r"|[\u3000-\u303f\uff00-\uffef]"  # CJK punctuation and full-width forms
    r"|[^\s\u3000-\u303f\u3400-\u9fff\uf900-\uffef]{1,6}\s*"  # a latin word piece
    r"|\s+"
)


# A FAQ answer is already written: streaming it tokenizer-sized cost ~90 pieces of ~20 µs each
# (redactor, event, five generator hops) per answer, 1.8 ms of a 2.5 ms request (profiled). The
# client gets it at once either way, so it goes out in pieces of up to this many characters.
PIECE_CHARS = 64


def split_into_chunks(text: str) -> list[str]:
    """Split text into model-sized chunks whose concatenation is the text itself."""
    return _CHUNK.findall(text)


def split_into_pieces(chunks: list[str], limit: int = PIECE_CHARS) -> list[str]:
    """Join consecutive chunks into pieces of at most ``limit`` characters (a longer chunk
    stays whole); the concatenation is unchanged."""
    pieces: list[str] = []
    current = ""
    for chunk in chunks:
        if current and len(current) + len(chunk) > limit:
            pieces.append(current)
            current = ""
        current += chunk
    if current:
        pieces.append(current)
    return pieces


class FaqProvider:
    name = "faq"

    async def stream(self, request: GenerationRequest, usage: Usage) -> AsyncIterator[str]:
        usage.model = FAQ_MODEL
        usage.reported = True
        if not request.evidence:
            raise ProviderBadResponse("There is no FAQ answer to serve for this question.")
        answers = [item.answer for item in request.evidence]
        separator = "\n\n"
        for index, answer in enumerate(answers):
            if index:
                usage.tokens_out += 1
                yield separator
            chunks = split_into_chunks(answer)
            usage.tokens_out += len(chunks)  # counted as a model would, though sent in pieces
            for piece in split_into_pieces(chunks):
                yield piece

    async def aclose(self) -> None:
        return None
