"""A one-line progress bar on stderr (redrawn in place on a terminal, every 10% otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts finished requests and shows done/total, rate and failures."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.done = 0
        self.failed = 0
        self._stream = stream if stream is not None else sys.stderr
        self._live = self._stream.isatty()
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._next_step = 0.1

    def advance(self, *, ok: bool) -> None:
        """Record one finished request and redraw when it is time to."""
        self.done += 1
        self.failed += not ok
        now = time.monotonic()
        if self._live and (now - self._drawn_at > 0.1 or self.done == self.total):
            self._drawn_at = now
            self._stream.write("\r" + self._line(now))
        elif not self._live and self.done / self.total >= self._next_step:
            self._next_step += 0.1
            self._stream.write(self._line(now) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self._live:
            self._stream.write("\n")
            self._stream.flush()

    def _line(self, now: float) -> str:
        width = 30
        filled = int(width * self.done / self.total)
        rate = self.done / max(now - self._started, 1e-9)
        return (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.1f}/s, {self.failed} failing"
        )
