"""Building, persisting, validating and rebuilding the FAQ index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import faiss
import pytest

from rag.embeddings import HashingEmbeddings
from rag.index import (
    FORMAT_VERSION,
    INDEX_FILE,
    META_FILE,
    FaqIndex,
    IndexNotLoadedError,
    build_index,
    ensure_index,
    load_index,
)
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.matcher import ARRAYS_FILE, MatcherParams
from rag.retriever import FaqRetriever
from tests.rag.conftest import SMALL_KB, write_kb


def test_index_round_trips_through_disk(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """build_index writes FAISS, matcher and meta.json files that load_index reads back."""
    manifest = build_index(small_kb, index_dir=tmp_path)
    index = load_index(tmp_path, embeddings=HashingEmbeddings())
    rows = sum(1 for entry in small_kb for _ in entry.texts())
    assert index.kb_version == small_kb.version == manifest.kb_version
    assert index.vectors.ntotal == rows == len(index.manifest.rows)
    meta = json.loads((tmp_path / META_FILE).read_text(encoding="utf-8"))
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["embeddings"] == "hashing" and meta["dim"] == 512
    assert meta["counts"] == {"entries": 4, "rows": rows, "en": rows // 2, "zh": rows // 2}
    assert meta["rows"][0] == "refund-request" and meta["langs"][0] == "en"
    assert FaqRetriever(small_kb, index).search("refund please", k=1)[0].id == "refund-request"


def test_ensure_index_rebuilds_when_the_kb_changes(tmp_path: Path) -> None:
    """A KB edit changes its version, and ensure_index rebuilds the stale index to match."""
    kb_dir, index_dir = tmp_path / "kb", tmp_path / "index"
    old_kb = load_knowledge_base(write_kb(kb_dir, SMALL_KB))
    assert ensure_index(old_kb, index_dir).kb_version == old_kb.version
    edited = [{**SMALL_KB[0], "answer": {"en": "New answer.", "zh": "新答案。"}}, *SMALL_KB[1:]]
    new_kb = load_knowledge_base(write_kb(kb_dir, edited))
    assert new_kb.version != old_kb.version
    index = ensure_index(new_kb, index_dir)
    assert index.kb_version == new_kb.version
    reloaded = load_index(index_dir, embeddings=HashingEmbeddings())
    assert reloaded.kb_version == new_kb.version


def test_ensure_index_reuses_a_current_index(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """An index built from the same KB version is loaded, not rebuilt."""
    built = build_index(small_kb, index_dir=tmp_path)
    inodes = {path.name: path.stat().st_ino for path in tmp_path.iterdir()}
    assert ensure_index(small_kb, tmp_path).manifest == built
    # Every write goes through os.replace, so a rebuild would have given every file a new inode.
    assert {path.name: path.stat().st_ino for path in tmp_path.iterdir()} == inodes


def test_ensure_index_rebuilds_when_the_matcher_parameters_change(
    small_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same KB, other matcher defaults (a code change): the stale index is rebuilt."""
    build_index(small_kb, index_dir=tmp_path)
    inodes = {path.name: path.stat().st_ino for path in tmp_path.iterdir()}
    monkeypatch.setattr("rag.index.MatcherParams", lambda: MatcherParams(c=MatcherParams().c * 2))
    ensure_index(small_kb, tmp_path)
    assert {path.name: path.stat().st_ino for path in tmp_path.iterdir()} != inodes


def test_ensure_index_rebuilds_a_corrupt_index(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A damaged index file is replaced by a fresh build instead of failing startup."""
    build_index(small_kb, index_dir=tmp_path)
    (tmp_path / INDEX_FILE).write_bytes(b"garbage")
    assert ensure_index(small_kb, tmp_path).vectors.ntotal > 0
    load_index(tmp_path, embeddings=HashingEmbeddings())


def test_missing_index_is_index_not_loaded(tmp_path: Path) -> None:
    """Loading from an empty directory raises IndexNotLoadedError that says how to build one."""
    with pytest.raises(IndexNotLoadedError, match="beacon index build"):
        load_index(tmp_path, embeddings=HashingEmbeddings())


@pytest.mark.parametrize("damaged", [INDEX_FILE, ARRAYS_FILE])
def test_corrupt_or_missing_files_are_index_not_loaded(
    small_kb: KnowledgeBase, tmp_path: Path, damaged: str
) -> None:
    """A truncated or deleted index file no longer matches meta.json and is rejected."""
    build_index(small_kb, index_dir=tmp_path)
    path = tmp_path / damaged
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexNotLoadedError, match=damaged):
        load_index(tmp_path, embeddings=HashingEmbeddings())
    path.unlink()
    with pytest.raises(IndexNotLoadedError, match=damaged):
        load_index(tmp_path, embeddings=HashingEmbeddings())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"format_version": 99}, "format version 99"),
        ({"rows": ["refund-request"]}, "rows but"),
        ({"embeddings": "minilm"}, "built with 'minilm' embeddings"),
        ({"dim": 1024}, "index dim 1024 != embeddings dim 512"),
    ],
)
def test_inconsistent_meta_is_index_not_loaded(
    small_kb: KnowledgeBase, tmp_path: Path, edit: dict[str, object], message: str
) -> None:
    """meta.json that disagrees with the files or the embeddings is rejected with a reason."""
    build_index(small_kb, index_dir=tmp_path)
    meta_path = tmp_path / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, **edit}), encoding="utf-8")
    with pytest.raises(IndexNotLoadedError, match=message):
        load_index(tmp_path, embeddings=HashingEmbeddings())


def test_row_count_mismatch_is_index_not_loaded(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A FAISS file with a different row count than meta.json is rejected even if hashes agree."""
    build_index(small_kb, index_dir=tmp_path)
    smaller = faiss.IndexFlatIP(512)
    faiss.write_index(smaller, str(tmp_path / INDEX_FILE))
    meta_path = tmp_path / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["files"][INDEX_FILE] = hashlib.sha256((tmp_path / INDEX_FILE).read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexNotLoadedError, match="has 0 rows"):
        load_index(tmp_path, embeddings=HashingEmbeddings())


def test_wrong_embeddings_dim_is_index_not_loaded(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """Loading with embeddings of another dimension fails instead of returning nonsense."""
    build_index(small_kb, index_dir=tmp_path)
    with pytest.raises(IndexNotLoadedError, match="dim"):
        load_index(tmp_path, embeddings=HashingEmbeddings(dim=256))


def test_retriever_refuses_an_index_of_another_kb(small_kb: KnowledgeBase, tmp_path: Path) -> None:
    """A retriever over a KB whose version differs from the index's raises IndexNotLoadedError."""
    build_index(small_kb, index_dir=tmp_path)
    index = load_index(tmp_path, embeddings=HashingEmbeddings())
    other = load_knowledge_base(write_kb(tmp_path / "kb2", SMALL_KB[:2]))
    with pytest.raises(IndexNotLoadedError, match="rebuild"):
        FaqRetriever(other, index)


def test_retriever_refuses_other_embeddings(small_kb: KnowledgeBase, small_index: FaqIndex) -> None:
    """Searching a hashing index with another embeddings backend is refused up front."""

    class OtherEmbeddings(HashingEmbeddings):
        name = "other"

    with pytest.raises(IndexNotLoadedError, match="'other'"):
        FaqRetriever(small_kb, small_index, OtherEmbeddings())
