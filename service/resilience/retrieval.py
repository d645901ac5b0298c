"""FAQ search with a deadline, and the one translation of its errors into ``DataError``.

The in-process FAISS search is a few milliseconds of CPU and runs inline; the deadline bounds
whatever can wait (a remote vector store, a slow search a drill installs). ``search`` is the
seam: anything with ``search(question, k=...)`` returning evidence (sync or awaitable).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Protocol

from rag.index import IndexNotLoadedError
from rag.retriever import Evidence
from service.errors import DataError, IndexUnavailable, RetrievalFailed


class Searcher(Protocol):
    @property
    def kb_version(self) -> str: ...

    def search(self, question: str, *, k: int) -> list[Evidence] | Awaitable[list[Evidence]]: ...


class GuardedRetriever:
    def __init__(self, retriever: Searcher, *, timeout_s: float) -> None:
        self.retriever = retriever
        self.timeout_s = timeout_s

    @property
    def kb_version(self) -> str:
        return self.retriever.kb_version

    async def search(self, question: str, *, k: int) -> list[Evidence]:
        """Evidence for ``question``; raise ``DataError`` when the index cannot answer in time."""
        try:
            async with asyncio.timeout(self.timeout_s):
                found = self.retriever.search(question, k=k)
                return await found if inspect.isawaitable(found) else found
        except TimeoutError:
            raise RetrievalFailed("Our help centre search timed out. Please try again.") from None
        except DataError:
            raise
        except IndexNotLoadedError as error:
            raise IndexUnavailable() from error
        except Exception as error:
            raise RetrievalFailed() from error
