"""Embeddings: hashing vectors, their stability across processes, and the optional backends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.embeddings import (
    EmbeddingsUnavailable,
    HashingEmbeddings,
    MiniLMEmbeddings,
    make_embeddings,
)

TEXTS = ["How do I request a refund?", "怎么申请退款？", "我的 order 怎么 cancel"]
ROOT = Path(__file__).resolve().parents[2]


def test_hashing_embeddings_are_unit_float32_vectors() -> None:
    """Every embedding is a float32 vector of the configured dim with unit L2 norm."""
    embeddings = HashingEmbeddings(dim=256)
    matrix = embeddings.embed_documents_array(TEXTS)
    assert matrix.dtype == np.float32 and matrix.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, rtol=1e-5)
    assert embeddings.embed_query("refund") == pytest.approx(
        embeddings.embed_query_array("refund").tolist()
    )


def test_hashing_embeddings_place_paraphrases_closer_than_unrelated_text() -> None:
    """Texts sharing words or Han n-grams are closer than unrelated texts, in both languages."""
    embed = HashingEmbeddings().embed_query_array
    query = embed("refund my order")
    assert query @ embed("I want a refund") > query @ embed("reset password")
    assert embed("怎么申请退款") @ embed("我要退款") > embed("怎么申请退款") @ embed("忘记密码")


def test_hashing_embeddings_of_empty_text_are_zero() -> None:
    """Text without letters or digits embeds to the zero vector instead of dividing by zero."""
    vector = HashingEmbeddings().embed_query_array(" ?! ")
    assert not vector.any()


def test_hashing_embeddings_are_identical_across_processes() -> None:
    """A fresh interpreter (different hash seed) computes bit-identical vectors."""
    code = (
        "import json,sys;from rag.embeddings import HashingEmbeddings;"
        "print(json.dumps(HashingEmbeddings().embed_documents(json.loads(sys.argv[1]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TEXTS)],
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    other = np.array(json.loads(out), np.float32)
    np.testing.assert_array_equal(other, HashingEmbeddings().embed_documents_array(TEXTS))


def test_hashing_query_embedding_is_fast() -> None:
    """A 20-word English question embeds in well under a millisecond (target: 100 µs)."""
    embeddings = HashingEmbeddings()
    question = (
        "How can I get a refund for the blue jacket I ordered last week if it does not fit me"
    )
    embeddings.embed_query_array(question)
    runs = 2000
    started = time.perf_counter()
    for _ in range(runs):
        embeddings.embed_query_array(question)
    assert (time.perf_counter() - started) / runs < 300e-6


def test_hashing_dim_must_be_a_power_of_two() -> None:
    """A dimension that is not a power of two is rejected (buckets come from a bit mask)."""
    with pytest.raises(ValueError, match="power of two"):
        HashingEmbeddings(dim=300)


def test_make_embeddings_builds_hashing_and_rejects_unknown_names() -> None:
    """make_embeddings returns a LangChain Embeddings and names unknown backends in the error."""
    embeddings = make_embeddings("hashing", dim=128)
    assert isinstance(embeddings, Embeddings)
    assert len(embeddings.embed_query("hi")) == 128
    with pytest.raises(EmbeddingsUnavailable, match="unknown embeddings 'bert'"):
        make_embeddings("bert")  # type: ignore[arg-type]


def test_minilm_without_dense_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without sentence-transformers, MiniLM raises EmbeddingsUnavailable naming the extra."""
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(EmbeddingsUnavailable, match=r"beacon\[dense\]"):
        MiniLMEmbeddings()
