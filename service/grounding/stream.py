"""``GroundingFilter``: check claims while an answer streams, holding back as little as possible.

Fed the redactor's output chunk by chunk, it releases text at once until the first place in a
sentence where a claim can begin (see ``triggers``), holds from there to the end of that
sentence, then checks the sentence's claims against the evidence: all supported, the held text
goes out unchanged; otherwise the policy's wording replaces it. Sentences are cut at
``MAX_SENTENCE_CHARS`` so a stream without punctuation cannot be held for ever.

For any split of the input into chunks the output is the same as for the whole input at once:
every decision depends only on the text of the current sentence, never on where a chunk ended.
"""

from __future__ import annotations

import re
from collections import Counter

from service.grounding.check import EvidenceIndex
from service.grounding.claims import Claim, ClaimKind, extract_claims
from service.grounding.numbers import fold
from service.grounding.policy import GroundingPolicy, UnsupportedAction
from service.grounding.triggers import TRIGGER, is_latin_letter, pending_tail

MAX_SENTENCE_CHARS = 1_000
# A latin full stop ends a sentence only before whitespace, so "4.99" and "example.com" stay whole.
_SENTENCE_END = re.compile(r"[.!?](?=\s)|[。！？\n]")


class GroundingFilter:
    """Streams an answer, replacing sentences whose claims the evidence does not support."""

    __slots__ = (
        "_buf",
        "_folded",
        "_hold",
        "_index",
        "_lang",
        "_policy",
        "_released",
        "_scan",
        "_title",
        "checked",
        "counts",
        "ended",
        "findings",
    )

    def __init__(
        self,
        index: EvidenceIndex,
        *,
        policy: GroundingPolicy | None = None,
        lang: str = "en",
        title: str | None = None,
    ) -> None:
        self._index = index
        self._policy = policy or GroundingPolicy()
        self._lang = lang
        self._title = title  # the cited entry the replacement points to
        self._buf = ""  # the current sentence, from its start
        self._folded = ""  # the same, folded (same length)
        self._released = 0  # characters of _buf already released
        self._hold: int | None = None  # where the held part of _buf starts
        self._scan = 0  # where the search for the sentence's end resumes
        self.checked = 0
        self.counts: Counter[ClaimKind] = Counter()
        self.findings: list[Claim] = []
        self.ended = False  # the policy ended the answer (handoff)

    @property
    def grounded(self) -> str:
        """``"supported"`` while every checked claim is, else ``"unsupported"``."""
        return "unsupported" if self.findings else "supported"

    @property
    def held(self) -> int:
        """Characters held back right now."""
        return len(self._buf) - self._released

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that can be released now."""
        if self.ended:
            return ""
        self._buf += chunk
        folded = self._folded = self._folded + fold(chunk)
        if len(folded) < MAX_SENTENCE_CHARS and not _SENTENCE_END.search(folded, self._scan):
            # The common case, one call per token: the sentence goes on.
            self._scan = max(0, len(folded) - 1)
            return self._release_open()
        return self._drain()

    def flush(self) -> str:
        """End of the answer: decide and release whatever is still held."""
        if self.ended:
            return ""
        out = self._drain()
        if self._buf and not self.ended:
            out += self._finish_sentence(len(self._buf))
        self._buf = self._folded = ""
        self._released, self._hold, self._scan = 0, None, 0
        return out

    def _drain(self) -> str:
        out: list[str] = []
        while not self.ended:
            end = self._sentence_end()
            if end is None:
                out.append(self._release_open())
                break
            out.append(self._finish_sentence(end))
            self._buf, self._folded = self._buf[end:], self._folded[end:]
            self._released, self._hold, self._scan = 0, None, 0
        return "".join(out)

    def _sentence_end(self) -> int | None:
        limit = min(len(self._buf), MAX_SENTENCE_CHARS)
        match = _SENTENCE_END.search(self._folded, self._scan, limit)
        if match is not None:
            return match.end()
        if len(self._buf) >= MAX_SENTENCE_CHARS:
            return MAX_SENTENCE_CHARS
        self._scan = max(0, len(self._buf) - 1)  # a trailing '.' is decided by the next char
        return None

    def _release_open(self) -> str:
        """Release the open sentence up to its first trigger (or pending trigger)."""
        if self._hold is not None:
            return ""
        start, folded = self._released, self._folded
        match = TRIGGER.search(folded, start)
        if match is None:
            safe = len(folded) - pending_tail(folded, start)
        elif match.end() == len(folded) and is_latin_letter(folded[-1]):
            safe = match.start()  # "one" may yet become "onerous"
        else:
            safe = self._hold = match.start()
        self._released = safe
        return self._buf[start:safe]

    def _finish_sentence(self, end: int) -> str:
        start, sentence = self._released, self._buf[:end]
        hold = self._hold
        if hold is None:
            match = TRIGGER.search(self._folded, start, end)
            hold = match.start() if match else None
        if hold is None:
            return sentence[start:]
        held = [claim for claim in extract_claims(sentence) if claim.end > hold]
        self.checked += len(held)
        unsupported = [claim for claim in held if not self._index.supports(claim)]
        if not unsupported:
            return sentence[start:]
        self.findings += unsupported
        self.counts.update(claim.kind for claim in unsupported)
        if self._policy.action is UnsupportedAction.OBSERVE:
            return sentence[start:]
        if self._policy.action is UnsupportedAction.HANDOFF:
            self.ended = True
        tail = sentence[hold:]
        spacing = tail[len(tail.rstrip()) :]
        return sentence[start:hold] + self._policy.replacement(self._lang, self._title) + spacing
