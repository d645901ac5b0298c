"""FAQ search with a deadline, its fault points, and the one translation of its errors.

The in-process FAISS search is a few milliseconds of CPU and runs inline; the deadline bounds
whatever can wait (a remote vector store, the drill's slow-retrieval fault).
"""

from __future__ import annotations

import asyncio

from rag.index import IndexNotLoadedError
from rag.retriever import Evidence, FaqRetriever
from service.errors import DataError, IndexUnavailable, RetrievalFailed
from service.faults import FaultPoint, fault_active

_SLOW_FAULT_S = 3600.0  # cut short by the deadline


class GuardedRetriever:
    def __init__(self, retriever: FaqRetriever, *, timeout_s: float) -> None:
        self.retriever = retriever
        self.timeout_s = timeout_s

    async def search(self, question: str, *, k: int) -> list[Evidence]:
        """Evidence for ``question``; raise ``DataError`` when the index cannot answer in time."""
        if fault_active(FaultPoint.INDEX_UNAVAILABLE):
            raise IndexUnavailable()
        if fault_active(FaultPoint.EMPTY_RETRIEVAL):
            return []
        try:
            async with asyncio.timeout(self.timeout_s):
                if fault_active(FaultPoint.SLOW_RETRIEVAL):
                    await asyncio.sleep(_SLOW_FAULT_S)
                return self.retriever.search(question, k=k)
        except TimeoutError:
            raise RetrievalFailed("Our help centre search timed out. Please try again.") from None
        except DataError:
            raise
        except IndexNotLoadedError as error:
            raise IndexUnavailable() from error
        except Exception as error:
            raise RetrievalFailed() from error
