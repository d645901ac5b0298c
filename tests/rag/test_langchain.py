"""LangChain adapters: Beacon's index as a VectorStore and its search as a BaseRetriever."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.embeddings import HashingEmbeddings
from rag.index import FaqIndex
from rag.knowledge import KnowledgeBase
from rag.langchain import BeaconVectorStore, FaqLangChainRetriever
from rag.retriever import FaqRetriever


def test_vector_store_returns_kb_texts_as_documents(
    small_kb: KnowledgeBase, small_index: FaqIndex
) -> None:
    """similarity_search returns Documents of KB texts with id, source, version and lang."""
    store = BeaconVectorStore(small_kb, small_index)
    docs = store.similarity_search("怎么申请退款", k=2)
    assert all(isinstance(doc, Document) for doc in docs)
    assert docs[0].page_content == "怎么申请退款？"
    assert docs[0].metadata == {
        "id": "refund-request",
        "source": "help-center/refunds/request",
        "version": 1,
        "category": "refund",
        "lang": "zh",
    }


def test_vector_store_scores_are_cosine_similarities(
    small_kb: KnowledgeBase, small_index: FaqIndex
) -> None:
    """Scores are descending cosines; the exact text scores 1 and relevance stays in [0, 1]."""
    store = BeaconVectorStore(small_kb, small_index)
    scored = store.similarity_search_with_score("How do I cancel my order?", k=3)
    assert scored[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)
    relevance = store.similarity_search_with_relevance_scores("cancel order", k=3)
    assert all(0.0 <= score <= 1.0 for _, score in relevance)
    with pytest.raises(TypeError, match="filter"):
        store.similarity_search("cancel", k=1, filter={"id": "x"})


def test_vector_store_is_read_only(small_kb: KnowledgeBase, small_index: FaqIndex) -> None:
    """add_texts explains that the store is built from the KB by `beacon index build`."""
    store = BeaconVectorStore(small_kb, small_index)
    with pytest.raises(NotImplementedError, match="beacon index build"):
        store.add_texts(["new text"])


def test_vector_store_from_texts_builds_an_ad_hoc_store() -> None:
    """from_texts makes one entry per text, so LangChain's generic constructors work too."""
    store = BeaconVectorStore.from_texts(
        ["Refunds take five days.", "Orders ship in two days."],
        HashingEmbeddings(),
        metadatas=[{"id": "refunds"}, {"id": "shipping"}],
    )
    docs = store.similarity_search("when do orders ship", k=1)
    assert docs[0].metadata["id"] == "shipping"
    assert store.index.vectors.ntotal == 2
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert retriever.invoke("refund")[0].page_content == "Refunds take five days."


def test_langchain_retriever_returns_cited_answers(small_retriever: FaqRetriever) -> None:
    """FaqLangChainRetriever returns answer Documents carrying id, score, source and version."""
    retriever = FaqLangChainRetriever(retriever=small_retriever, k=2)
    docs = retriever.invoke("我想退款")
    assert len(docs) == 2
    top = docs[0]
    assert top.page_content == "在订单页点击申请退款。"
    assert top.metadata["id"] == "refund-request"
    assert top.metadata["source"] == "help-center/refunds/request"
    assert top.metadata["version"] == 1
    assert top.metadata["lang"] == "zh"
    assert 0.0 < top.metadata["score"] <= 1.0
    assert top.metadata["score"] >= docs[1].metadata["score"]
