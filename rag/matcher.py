"""A linear intent matcher trained on the KB's questions and paraphrases when the index is built.

Features are stable crc32 codes of in-word character 2–5-grams, Han 1–3-grams and word uni- and
bigrams (the same :class:`~rag.embeddings.NgramHasher` as the hashing embeddings), TF-IDF weighted
and L2-normalised; the model is a one-vs-rest ``LinearSVC``. Only the feature codes seen in
training get a column, so the persisted state is small: arrays in ``matcher.npz`` (loaded with
``allow_pickle=False``) and parameters in JSON. Never pickle.

Scores are ``sigmoid(slope * decision + offset)`` per entry. One-vs-rest margins do not depend on
how many entries the KB has (unlike a softmax), so the same score means the same across KBs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.svm import LinearSVC

from rag.embeddings import CodeArray, FloatArray, NgramHasher

ARRAYS_FILE = "matcher.npz"
PARAMS_FILE = "matcher.json"


@dataclass(frozen=True)
class MatcherParams:
    """Everything besides the learned arrays that prediction needs (persisted as JSON)."""

    char_sizes: tuple[int, int] = (2, 5)
    han_sizes: tuple[int, int] = (1, 3)
    word_bigrams: bool = True
    c: float = 1.0
    slope: float = 4.0
    offset: float = 0.0

    def hasher(self) -> NgramHasher:
        """Build the feature hasher these parameters describe."""
        return NgramHasher(
            char_sizes=self.char_sizes, han_sizes=self.han_sizes, word_bigrams=self.word_bigrams
        )


class IntentMatcher:
    """Per-entry scores in [0, 1] from a linear classifier over the KB's paraphrases."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        columns: CodeArray,
        idf: FloatArray,
        coef: FloatArray,
        intercept: FloatArray,
        params: MatcherParams,
    ) -> None:
        if coef.shape != (len(columns), len(labels)) or idf.shape != (len(columns),):
            raise ValueError("matcher arrays do not agree in shape")
        self.labels = tuple(labels)
        self.params = params
        self._columns = columns
        self._idf = idf
        self._unseen_idf = float(idf.max()) if len(idf) else 1.0
        self._coef = coef
        self._intercept = intercept
        self._hasher = params.hasher()

    @classmethod
    def train(
        cls, texts: Sequence[str], labels: Sequence[str], params: MatcherParams | None = None
    ) -> IntentMatcher:
        """Fit on ``texts`` with entry ids ``labels``; label order follows first appearance."""
        params = params or MatcherParams()
        hasher = params.hasher()
        rows = [hasher.features(text) for text in texts]
        columns = np.unique(np.concatenate([codes for codes, _ in rows])).astype(np.uint32)
        counts = sparse.csr_matrix(_matrix(rows, columns))
        df = np.bincount(counts.indices, minlength=len(columns))
        idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        features = _l2_rows(counts.multiply(idf).tocsr())
        classes = list(dict.fromkeys(labels))
        if len(classes) < 2:  # nothing to tell apart: the matcher abstains (all scores 0)
            coef = np.zeros((len(columns), len(classes)), np.float32)
            return cls(
                labels=classes,
                columns=columns,
                idf=idf,
                coef=coef,
                intercept=np.full(len(classes), -np.inf, np.float32),
                params=params,
            )
        y = np.array([classes.index(label) for label in labels])
        model = LinearSVC(C=params.c, dual="auto", max_iter=5000, random_state=0).fit(features, y)
        weights, bias = _one_vs_rest(model.coef_, model.intercept_)
        return cls(
            labels=classes,
            columns=columns,
            idf=idf,
            coef=np.ascontiguousarray(weights.T, np.float32),
            intercept=bias.astype(np.float32),
            params=params,
        )

    @property
    def active(self) -> bool:
        """False when the KB has a single entry: there is nothing to tell apart, scores are 0."""
        return len(self.labels) >= 2

    def decision(self, text: str) -> FloatArray:
        """Return the raw one-vs-rest decision value for every label."""
        codes, values = self._hasher.features(text)
        if not len(codes):
            return self._intercept.copy()
        pos = np.minimum(np.searchsorted(self._columns, codes), len(self._columns) - 1)
        known = self._columns[pos] == codes
        # Unseen n-grams count in the norm: text unlike anything in the KB scores lower.
        weighted = values * np.where(known, self._idf[pos], self._unseen_idf)
        norm = float(np.linalg.norm(weighted))
        x = weighted[known] / norm if norm > 0 else weighted[known]
        result: FloatArray = x @ self._coef[pos[known]] + self._intercept
        return result

    def predict_scores(self, text: str) -> FloatArray:
        """Return per-label scores in [0, 1] (a sigmoid of the decision values)."""
        z = self.params.slope * self.decision(text) + self.params.offset
        result: FloatArray = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return result

    def save(self, directory: Path) -> list[Path]:
        """Write ``matcher.npz`` and ``matcher.json`` into ``directory``; return their paths."""
        arrays = directory / ARRAYS_FILE
        with arrays.open("wb") as fh:
            np.savez(
                fh,
                columns=self._columns,
                idf=self._idf,
                coef=self._coef,
                intercept=self._intercept,
            )
        params = directory / PARAMS_FILE
        state = {"labels": list(self.labels), "params": asdict(self.params)}
        params.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        return [arrays, params]

    @classmethod
    def load(cls, directory: Path) -> IntentMatcher:
        """Load a matcher saved by :meth:`save` (no pickle: ``allow_pickle=False``)."""
        state = json.loads((directory / PARAMS_FILE).read_text(encoding="utf-8"))
        raw = state["params"]
        params = MatcherParams(
            **{**raw, "char_sizes": tuple(raw["char_sizes"]), "han_sizes": tuple(raw["han_sizes"])}
        )
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            return cls(
                labels=[str(label) for label in state["labels"]],
                columns=arrays["columns"].astype(np.uint32),
                idf=arrays["idf"].astype(np.float32),
                coef=arrays["coef"].astype(np.float32),
                intercept=arrays["intercept"].astype(np.float32),
                params=params,
            )


def _matrix(rows: Sequence[tuple[CodeArray, FloatArray]], columns: CodeArray) -> sparse.csr_matrix:
    indptr = np.cumsum([0] + [len(codes) for codes, _ in rows])
    indices = np.searchsorted(columns, np.concatenate([codes for codes, _ in rows]))
    data = np.concatenate([values for _, values in rows])
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(columns)))


def _l2_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = sparse.diags(1.0 / np.where(norms > 0, norms, 1.0))
    return sparse.csr_matrix(scale @ matrix)


def _one_vs_rest(
    coef: npt.NDArray[np.float64], intercept: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    # A binary LinearSVC keeps one hyperplane for class 1; class 0 is its mirror image.
    if coef.shape[0] == 1:
        return np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return coef, intercept
