"""LangChain adapters, so LangChain users can plug Beacon's index and retriever into their chains.

Beacon depends only on langchain-core's interfaces (``VectorStore``, ``BaseRetriever``), never on
langchain-community: its FAISS store persists with pickle and it is no longer maintained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict

from rag.embeddings import embed_query_vector
from rag.index import FaqIndex, IndexNotLoadedError, build_faq_index, kb_rows
from rag.knowledge import FaqEntry, KnowledgeBase, knowledge_base_from_entries
from rag.retriever import FaqRetriever


class BeaconVectorStore(VectorStore):
    """A read-only LangChain vector store over Beacon's FAISS index: one Document per KB text.

    Scores are cosine similarities (inner products of unit vectors), higher is better.
    """

    def __init__(self, kb: KnowledgeBase, index: FaqIndex) -> None:
        rows = kb_rows(kb)
        if index.kb_version != kb.version or len(rows) != index.vectors.ntotal:
            raise IndexNotLoadedError("index does not belong to this knowledge base: rebuild it")
        self.kb = kb
        self.index = index
        self._rows = rows

    @property
    def embeddings(self) -> Embeddings:
        return self.index.embeddings

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        raise NotImplementedError(
            "BeaconVectorStore is built from the knowledge base: edit rag/kb/*.yaml and run "
            "`beacon index build` (or use BeaconVectorStore.from_texts for an ad-hoc store)"
        )

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        _reject_options(kwargs)
        vector = embed_query_vector(self.embeddings, query)
        return self.similarity_search_by_vector_with_score(vector.tolist(), k)

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        _reject_options(kwargs)
        return [doc for doc, _ in self.similarity_search_by_vector_with_score(embedding, k)]

    def similarity_search_by_vector_with_score(
        self, embedding: list[float], k: int = 4
    ) -> list[tuple[Document, float]]:
        """Return the ``k`` nearest KB texts to ``embedding`` with their cosine scores."""
        n = min(k, self.index.vectors.ntotal)
        if n <= 0:
            return []
        vector = np.asarray(embedding, np.float32).reshape(1, -1)
        scores, rows = self.index.vectors.search(vector, n)
        return [
            (self._document(int(row)), float(score))
            for score, row in zip(scores[0], rows[0], strict=True)
            if row >= 0
        ]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Cosine of unit vectors is already "higher is more relevant"; clip it into [0, 1].
        return lambda score: min(max(score, 0.0), 1.0)

    def _document(self, row: int) -> Document:
        entry_id, lang, text = self._rows[row]
        entry = self.kb.get(entry_id)
        assert entry is not None  # rows come from this KB
        return Document(page_content=text, metadata={**_metadata(entry), "lang": lang})

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> BeaconVectorStore:
        """Build an in-memory store where every text is its own FAQ entry (for ad-hoc use)."""
        _reject_options(kwargs)
        metadatas = metadatas or [{} for _ in texts]
        ids = ids or [str(meta.get("id", f"text-{i}")) for i, meta in enumerate(metadatas)]
        entries = [
            _text_entry(text, entry_id, meta)
            for text, entry_id, meta in zip(texts, ids, metadatas, strict=True)
        ]
        kb = knowledge_base_from_entries(entries)
        return cls(kb, build_faq_index(kb, embedding))


class FaqLangChainRetriever(BaseRetriever):
    """Beacon's hybrid FAQ search as a LangChain retriever.

    Each Document's content is the answer in the query's language; metadata carries id, title,
    score, source, version, category and lang, so a chain can cite what it used.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: FaqRetriever
    k: int = 3

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,  # noqa: ARG002 - required by BaseRetriever
    ) -> list[Document]:
        return [
            Document(
                page_content=hit.answer,
                metadata={
                    "id": hit.id,
                    "title": hit.title,
                    "score": hit.score,
                    "source": hit.source,
                    "version": hit.version,
                    "category": hit.category,
                    "lang": hit.lang,
                },
            )
            for hit in self.retriever.search(query, k=self.k)
        ]


def _reject_options(options: dict[str, Any]) -> None:
    # Silently ignoring e.g. a metadata filter would return documents the caller excluded.
    if options:
        raise TypeError(f"BeaconVectorStore does not support {sorted(options)}")


def _metadata(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "source": entry.source,
        "version": entry.version,
        "category": entry.category,
    }


def _text_entry(text: str, entry_id: str, meta: dict[str, Any]) -> FaqEntry:
    return FaqEntry(
        id=entry_id,
        category=str(meta.get("category", "text")),
        intents=(),
        source=str(meta.get("source", entry_id)),
        version=int(meta.get("version", 1)),
        question={"en": text, "zh": text},
        paraphrases={"en": (text,)},
        answer={"en": text, "zh": text},
    )
