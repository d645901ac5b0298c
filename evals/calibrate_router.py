"""Calibrate the router's confident thresholds on dev data only, after the KB changes.

Dev data is ``kb_heldout.yaml`` (held-out paraphrases of every entry) and
``dev_out_of_scope.yaml`` (questions no entry answers), each in English and Chinese; the
regression suite and Bitext are never read here. Printed per language and candidate (0.05
steps): how many dev paraphrases would be answered confidently and how precisely, and how many
dev out-of-scope questions would be.

The rules behind ``RouterSettings``' defaults, applied per language (Chinese is matched on Han
n-grams, English on words, and their scores run on different scales):
- ``faq_min_score`` / ``faq_min_score_zh``: the lowest candidate above every dev out-of-scope
  question's best score in that language;
- ``faq_min_margin``: kept at 0.15 (short ambiguous questions such as "refund" are not in dev
  data, and a smaller margin answered them from one of two entries); the calibration fails when
  the dev precision at the chosen score falls below 95%.

Usage: ``python -m evals.calibrate_router`` (on the index ``beacon index build`` wrote).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from evals.harness.cases import read_cases
from evals.harness.suites import SUITES_DIR
from rag.knowledge import load_knowledge_base
from rag.language import Lang
from rag.retriever import FaqRetriever
from service.resources import build_retriever
from service.settings import Settings

CANDIDATES = tuple(round(0.30 + 0.05 * i, 2) for i in range(9))
LANGS: tuple[Lang, ...] = ("en", "zh")
PRECISION = 0.95
MARGIN = 0.15

Scored = list[tuple[float, float, bool]]
"""(top score, margin, top entry expected) per case."""


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def best_two(retriever: FaqRetriever, suite: str, lang: Lang) -> Scored:
    """Each case of a dev suite in ``lang``, scored."""
    rows = []
    for case in read_cases(SUITES_DIR / suite):
        if case.lang != lang:
            continue
        found = retriever.search(case.question, k=2)
        top, second = found[0].score, found[1].score
        rows.append((top, top - second, found[0].id in case.expected_entries))
    return rows


@dataclass(frozen=True)
class Calibration:
    lang: Lang
    faq_min_score: float
    faq_min_margin: float
    precision: float
    """Of the dev paraphrases answered confidently at these thresholds, the share right."""
    table: tuple[str, ...]


def _precision(dev: Scored, score: float) -> tuple[int, float]:
    confident = [ok for top, margin, ok in dev if top >= score and margin >= MARGIN]
    return len(confident), (sum(confident) / len(confident) if confident else 1.0)


def calibrate(retriever: FaqRetriever, lang: Lang) -> Calibration:
    """The thresholds the rules above pick for ``lang`` on ``retriever``'s KB, and the table."""
    dev = best_two(retriever, "kb_heldout.yaml", lang)
    off_topic = best_two(retriever, "dev_out_of_scope.yaml", lang)
    highest_off_topic = max(top for top, _, _ in off_topic)
    table = [
        f"{lang}: {len(dev)} dev paraphrases, {len(off_topic)} out-of-scope questions, "
        f"highest out-of-scope score {highest_off_topic:.3f}",
        "score  confident  precision  out-of-scope confident",
    ]
    for score in CANDIDATES:
        count, precision = _precision(dev, score)
        answered = sum(1 for top, margin, _ in off_topic if top >= score and margin >= MARGIN)
        table.append(f"{score:5.2f}  {count:4d}/{len(dev)}  {precision:9.1%}  {answered:6d}")
    chosen = next(score for score in CANDIDATES if score > highest_off_topic)
    return Calibration(lang, chosen, MARGIN, _precision(dev, chosen)[1], tuple(table))


def main() -> int:
    settings = Settings()
    retriever = build_retriever(settings, load_knowledge_base(settings.retrieval.kb_dir))
    found = [calibrate(retriever, lang) for lang in LANGS]
    for calibration in found:
        for line in calibration.table:
            say(line)
        say(
            f"{calibration.lang}: faq_min_score={calibration.faq_min_score:.2f} "
            f"faq_min_margin={calibration.faq_min_margin:.2f} "
            f"(precision {calibration.precision:.1%})\n"
        )
    return 0 if all(calibration.precision >= PRECISION for calibration in found) else 1


if __name__ == "__main__":
    sys.exit(main())
