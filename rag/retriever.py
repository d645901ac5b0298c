"""Hybrid FAQ retrieval: dense vectors + lexical overlap + the intent matcher, fused per entry.

Each signal yields one score in [0, 1] per FAQ entry, and the weighted sum is the evidence score:
a confidence that a router can threshold (``top score``) and compare (``top1 - top2`` margin).

- dense: FAISS inner product of unit vectors over every question/paraphrase row, aggregated per
  entry as the mean of its best row and its best-3 mean (one lucky paraphrase is not enough);
- lexical: IDF-weighted Dice overlap of whole words (Chinese segmented into words) with the
  entry's best row; words the KB has never seen weigh as much as its rarest, so off-topic questions
  score low;
- matcher: the linear classifier's per-entry score (see :mod:`rag.matcher`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings

from rag.embeddings import FloatArray, embed_query_vector, embedding_name
from rag.index import FaqIndex, IndexNotLoadedError, configure_faiss_threads, kb_rows
from rag.knowledge import KnowledgeBase
from rag.language import (
    Lang,
    content_tokens,
    detect_language,
    han_words,
    is_han,
    normalize_text,
    tokenize,
)

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One retrieved FAQ entry, in the query's language, with its fused and component scores."""

    id: str
    title: str
    score: float
    source: str
    version: int
    category: str
    answer: str
    lang: Lang
    dense: float
    lexical: float
    matcher: float


@dataclass(frozen=True)
class Fusion:
    """Weights of the three signals (they sum to 1, so the fused score stays in [0, 1]).

    The matcher leads: on BANKING77 dev and the demo KB it separated paraphrases from
    off-topic questions best; dense and lexical add robustness (typos, rare words, tiny KBs).
    """

    dense: float = 0.15
    lexical: float = 0.15
    matcher: float = 0.7
    candidate_rows: int = 64  # FAISS rows fetched per query before aggregating per entry

    def without_matcher(self) -> Fusion:
        """The same fusion with the matcher's weight spread over dense and lexical."""
        total = self.dense + self.lexical
        return replace(self, dense=self.dense / total, lexical=self.lexical / total, matcher=0.0)


def lexical_terms(text: str) -> set[str]:
    """Return the lexical terms of ``text``: words (plural "s" dropped), Chinese segmented into
    words. (Han bigrams made "退货要在多少天之内" share only three of its eight terms with
    "退货期限是多少天": cross-word bigrams like 货要 and 天之 counted as rare unknown words.)"""
    terms: set[str] = set()
    for token in content_tokens(normalize_text(text)):
        if is_han(token):
            terms.update(han_words(token))
        elif len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            terms.add(token[:-1])
        else:
            terms.add(token)
    return terms


class LexicalScorer:
    """IDF-weighted Dice overlap between a query and each row, maximised per entry."""

    def __init__(self, texts: list[str], row_entry: IntArray, n_entries: int) -> None:
        row_terms = [lexical_terms(text) for text in texts]
        postings: dict[str, list[int]] = {}
        entries_of: dict[str, set[int]] = {}
        for row, terms in enumerate(row_terms):
            for term in terms:
                postings.setdefault(term, []).append(row)
                entries_of.setdefault(term, set()).add(int(row_entry[row]))
        # Document frequency over entries, not rows: an entry's paraphrases repeat its words.
        self._idf = {t: float(np.log1p(n_entries / len(e))) for t, e in entries_of.items()}
        self._unknown_idf = float(np.log1p(n_entries))
        self._postings = {t: np.array(rows, np.intp) for t, rows in postings.items()}
        self._row_weight = np.array(
            [sum(self._idf[t] for t in terms) for terms in row_terms], np.float32
        )
        self._starts = np.flatnonzero(np.r_[True, row_entry[1:] != row_entry[:-1]])

    def scores(self, text: str) -> FloatArray:
        """Return one score in [0, 1] per entry."""
        overlap = np.zeros(len(self._row_weight), np.float32)
        query_weight = 0.0
        for term in lexical_terms(text):
            idf = self._idf.get(term)
            if idf is None:
                query_weight += self._unknown_idf
                continue
            query_weight += idf
            overlap[self._postings[term]] += idf
        dice = 2 * overlap / (query_weight + self._row_weight + 1e-9)
        result: FloatArray = np.maximum.reduceat(dice, self._starts)
        return result


class FaqRetriever:
    """Hybrid search over a knowledge base and its index. Synchronous and thread-safe."""

    def __init__(
        self,
        kb: KnowledgeBase,
        index: FaqIndex,
        embeddings: Embeddings | None = None,
        *,
        fusion: Fusion | None = None,
    ) -> None:
        if index.kb_version != kb.version:
            raise IndexNotLoadedError(
                f"index built from {index.kb_version}, knowledge base is {kb.version}: rebuild it"
            )
        rows = kb_rows(kb)
        if tuple(entry_id for entry_id, _, _ in rows) != index.manifest.rows:
            raise IndexNotLoadedError("index rows do not match the knowledge base")
        self.embeddings = embeddings or index.embeddings
        if embedding_name(self.embeddings) != index.manifest.embeddings:
            raise IndexNotLoadedError(
                f"index built with {index.manifest.embeddings!r} embeddings, "
                f"searching with {embedding_name(self.embeddings)!r}"
            )
        self.kb = kb
        self.index = index
        fusion = fusion or Fusion()
        self.fusion = fusion if index.matcher.active else fusion.without_matcher()
        position = {entry.id: i for i, entry in enumerate(kb)}
        self._row_entry = np.array([position[entry_id] for entry_id, _, _ in rows], np.intp)
        label_position = {label: i for i, label in enumerate(index.matcher.labels)}
        self._matcher_order = np.array([label_position[e.id] for e in kb], np.intp)
        self._lexical = LexicalScorer([text for _, _, text in rows], self._row_entry, len(kb))
        configure_faiss_threads()

    @property
    def kb_version(self) -> str:
        """The version of the knowledge base being searched."""
        return self.kb.version

    def search(self, question: str, *, k: int = 3) -> list[Evidence]:
        """Return up to ``k`` distinct FAQ entries for ``question``, best first."""
        if k <= 0 or not tokenize(normalize_text(question)):
            return []
        vector = embed_query_vector(self.embeddings, question)
        dense = self._dense_scores(vector)
        lexical = self._lexical.scores(question)
        matcher = self.index.matcher.predict_scores(question, vector)[self._matcher_order]
        weights = self.fusion
        fused = weights.dense * dense + weights.lexical * lexical + weights.matcher * matcher
        fused = np.clip(fused, 0.0, 1.0)
        top = np.argsort(-fused, kind="stable")[:k]
        lang = detect_language(question)
        return [
            self._evidence(int(i), lang, float(fused[i]), dense[i], lexical[i], matcher[i])
            for i in top
        ]

    def _dense_scores(self, vector: FloatArray) -> FloatArray:
        n = min(self.fusion.candidate_rows, self.index.vectors.ntotal)
        scores, rows = self.index.vectors.search(vector.reshape(1, -1), n)
        scores, rows = np.clip(scores[0], 0.0, 1.0), rows[0]
        found = rows >= 0
        scores, entries = scores[found], self._row_entry[rows[found]]
        # Entries with no row among the candidates get the weakest candidate's score as a bound.
        floor = float(scores[-1]) if len(scores) else 0.0
        best = np.full(len(self.kb), floor, np.float32)
        np.maximum.at(best, entries, scores)
        # Best-3 mean per entry: rows arrive sorted, so the first three per entry are its best.
        top3 = np.zeros(len(self.kb), np.float32)
        seen = np.zeros(len(self.kb), np.intp)
        for score, entry in zip(scores.tolist(), entries.tolist(), strict=True):
            if seen[entry] < 3:
                top3[entry] += score
                seen[entry] += 1
        top3 = ((top3 + (3 - seen) * floor) / 3).astype(np.float32)
        result: FloatArray = 0.5 * best + 0.5 * top3
        return result

    def _evidence(
        self, i: int, lang: Lang, score: float, dense: float, lexical: float, matcher: float
    ) -> Evidence:
        entry = self.kb.entries[i]
        return Evidence(
            id=entry.id,
            title=entry.title(lang),
            score=score,
            source=entry.source,
            version=entry.version,
            category=entry.category,
            answer=entry.answer_in(lang),
            lang=lang,
            dense=float(dense),
            lexical=float(lexical),
            matcher=float(matcher),
        )
