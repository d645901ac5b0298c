"""Build, persist and load the FAQ index: FAISS vectors, a JSON sidecar and the intent matcher.

On disk (never pickle): ``faiss.index`` (``faiss.write_index`` of an ``IndexFlatIP`` over every
question and paraphrase; row *i* belongs to ``meta.json["rows"][i]``), ``matcher.npz`` +
``matcher.json``, and ``meta.json`` last, holding the format version, KB version, embeddings
name and dimension, row maps, counts and the sha256 of every other file. A reader trusts nothing
that ``meta.json`` does not vouch for, so a torn or stale write is an ``IndexNotLoadedError``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from langchain_core.embeddings import Embeddings

from rag.embeddings import (
    EmbeddingsName,
    embed_documents_matrix,
    embed_query_vector,
    embedding_name,
    make_embeddings,
)
from rag.knowledge import KnowledgeBase
from rag.language import Lang
from rag.matcher import ARRAYS_FILE, PARAMS_FILE, IntentMatcher, MatcherParams

FORMAT_VERSION = 2  # 2: the matcher is Platt-calibrated at build (older indexes rebuild)
INDEX_FILE = "faiss.index"
META_FILE = "meta.json"


class IndexNotLoadedError(RuntimeError):
    """The index is missing, unreadable, or does not match its metadata or the embeddings."""


@dataclass(frozen=True)
class IndexManifest:
    """The contents of ``meta.json``: what was built, from which KB, with which embeddings."""

    format_version: int
    kb_version: str
    embeddings: str
    dim: int
    rows: tuple[str, ...]
    langs: tuple[Lang, ...]
    built_at: str
    counts: dict[str, int]
    files: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document written to ``meta.json``."""
        return {**asdict(self), "rows": list(self.rows), "langs": list(self.langs)}


@dataclass(frozen=True)
class FaqIndex:
    """A loaded (or freshly built) index: vectors, row maps, matcher and the embeddings used."""

    manifest: IndexManifest
    vectors: faiss.Index
    matcher: IntentMatcher
    embeddings: Embeddings

    @property
    def kb_version(self) -> str:
        """The version of the knowledge base this index was built from."""
        return self.manifest.kb_version


def configure_faiss_threads(n: int = 1) -> None:
    """Pin FAISS to ``n`` OpenMP threads: in a server, two made small searches 14x slower."""
    faiss.omp_set_num_threads(n)


def kb_rows(kb: KnowledgeBase) -> list[tuple[str, Lang, str]]:
    """Return (entry id, language, text) for every indexed text, grouped by entry, in KB order."""
    return [(entry.id, lang, text) for entry in kb for lang, text in entry.texts()]


def build_faq_index(kb: KnowledgeBase, embeddings: Embeddings) -> FaqIndex:
    """Embed every KB text, train the matcher and return an in-memory index (nothing written)."""
    rows = kb_rows(kb)
    if not rows:
        raise ValueError("cannot index an empty knowledge base")
    texts = [text for _, _, text in rows]
    matrix = embed_documents_matrix(embeddings, texts)
    vectors = faiss.IndexFlatIP(matrix.shape[1])
    vectors.add(np.ascontiguousarray(matrix))
    # Out-of-scope texts train the matcher only (negatives); they are not searchable rows.
    negatives = [text for texts_of in kb.out_of_scope.values() for text in texts_of]
    labels: list[str | None] = [entry_id for entry_id, _, _ in rows]
    labels += [None] * len(negatives)
    # Hashing vectors repeat the matcher's own n-grams; a dense model adds what words miss.
    dense = None
    if embedding_name(embeddings) != "hashing":
        dense = matrix
        if negatives:
            dense = np.vstack([matrix, embed_documents_matrix(embeddings, negatives)])
    matcher = IntentMatcher.train([*texts, *negatives], labels, dense=dense)
    langs = [lang for _, lang, _ in rows]
    manifest = IndexManifest(
        format_version=FORMAT_VERSION,
        kb_version=kb.version,
        embeddings=embedding_name(embeddings),
        dim=int(matrix.shape[1]),
        rows=tuple(entry_id for entry_id, _, _ in rows),
        langs=tuple(langs),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        counts={
            "entries": len(kb),
            "rows": len(rows),
            **{lang: langs.count(lang) for lang in ("en", "zh")},
        },
        files={},
    )
    return FaqIndex(manifest=manifest, vectors=vectors, matcher=matcher, embeddings=embeddings)


def save_index(index: FaqIndex, index_dir: Path) -> IndexManifest:
    """Write ``index`` into ``index_dir``; ``meta.json`` goes last, with every file's sha256."""
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=index_dir))
    try:
        faiss.write_index(index.vectors, str(staging / INDEX_FILE))
        index.matcher.save(staging)
        names = (INDEX_FILE, ARRAYS_FILE, PARAMS_FILE)
        manifest = replace(index.manifest, files={name: _sha256(staging / name) for name in names})
        meta = json.dumps(manifest.to_json(), ensure_ascii=False, indent=1)
        (staging / META_FILE).write_text(meta, encoding="utf-8")
        # meta.json last: until it lands, readers see the old meta and reject the new files.
        for name in (*names, META_FILE):
            os.replace(staging / name, index_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def build_index(
    kb: KnowledgeBase,
    *,
    index_dir: Path,
    embeddings_name: EmbeddingsName = "hashing",
    embeddings: Embeddings | None = None,
) -> IndexManifest:
    """Build the index for ``kb`` and write it to ``index_dir``; return what was written."""
    embeddings = embeddings or make_embeddings(embeddings_name)
    return save_index(build_faq_index(kb, embeddings), index_dir)


def load_index(index_dir: Path, *, embeddings: Embeddings) -> FaqIndex:
    """Load and validate the index in ``index_dir``; raise IndexNotLoadedError if unusable."""
    manifest = _read_manifest(index_dir)
    name = embedding_name(embeddings)
    if manifest.embeddings != name:
        raise IndexNotLoadedError(
            f"{index_dir}: built with {manifest.embeddings!r} embeddings, loading with {name!r}"
        )
    dim = int(getattr(embeddings, "dim", 0)) or len(embed_query_vector(embeddings, "dim"))
    if manifest.dim != dim:
        raise IndexNotLoadedError(f"{index_dir}: index dim {manifest.dim} != embeddings dim {dim}")
    for file, digest in manifest.files.items():
        if not (index_dir / file).is_file() or _sha256(index_dir / file) != digest:
            raise IndexNotLoadedError(f"{index_dir}: {file} is missing or does not match meta.json")
    try:
        vectors = faiss.read_index(str(index_dir / INDEX_FILE))
        matcher = IntentMatcher.load(index_dir)
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        raise IndexNotLoadedError(f"{index_dir}: cannot read index files: {exc}") from exc
    if vectors.ntotal != len(manifest.rows) or vectors.d != manifest.dim:
        raise IndexNotLoadedError(
            f"{index_dir}: {INDEX_FILE} has {vectors.ntotal} rows of dim {vectors.d}, "
            f"meta.json expects {len(manifest.rows)} of dim {manifest.dim}"
        )
    if set(matcher.labels) != set(manifest.rows):
        raise IndexNotLoadedError(f"{index_dir}: matcher labels do not match the indexed entries")
    if matcher.uses_dense and len(matcher.dense_coef) != manifest.dim:
        raise IndexNotLoadedError(f"{index_dir}: matcher embedding block is not of dim {dim}")
    configure_faiss_threads()
    return FaqIndex(manifest=manifest, vectors=vectors, matcher=matcher, embeddings=embeddings)


def ensure_index(
    kb: KnowledgeBase,
    index_dir: Path,
    embeddings_name: EmbeddingsName = "hashing",
    *,
    embeddings: Embeddings | None = None,
) -> FaqIndex:
    """Load the index for ``kb``; rebuild it when missing, unreadable, built from another KB or
    with other matcher parameters (a code change to the defaults must not leave a stale index)."""
    embeddings = embeddings or make_embeddings(embeddings_name)
    try:
        index = load_index(index_dir, embeddings=embeddings)
    except IndexNotLoadedError:
        index = None
    if (
        index is not None
        and index.kb_version == kb.version
        and index.matcher.params.training() == MatcherParams().training()
    ):
        return index
    fresh = build_faq_index(kb, embeddings)
    manifest = save_index(fresh, index_dir)
    configure_faiss_threads()
    return FaqIndex(
        manifest=manifest, vectors=fresh.vectors, matcher=fresh.matcher, embeddings=embeddings
    )


def _read_manifest(index_dir: Path) -> IndexManifest:
    path = index_dir / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotLoadedError(f"{index_dir}: no index (run `beacon index build`)") from None
    except (OSError, ValueError) as exc:
        raise IndexNotLoadedError(f"{path}: unreadable: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format_version") != FORMAT_VERSION:
        found = raw.get("format_version") if isinstance(raw, dict) else None
        raise IndexNotLoadedError(f"{path}: format version {found!r}, expected {FORMAT_VERSION}")
    try:
        manifest = IndexManifest(
            **{**raw, "rows": tuple(raw["rows"]), "langs": tuple(raw["langs"])}
        )
    except (KeyError, TypeError) as exc:
        raise IndexNotLoadedError(f"{path}: malformed: {exc}") from exc
    if len(manifest.langs) != len(manifest.rows):
        raise IndexNotLoadedError(
            f"{path}: {len(manifest.rows)} rows but {len(manifest.langs)} langs"
        )
    return manifest


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
