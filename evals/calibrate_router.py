"""Calibrate the router's confident thresholds on dev data only, after the KB changes.

Dev data is ``kb_heldout.yaml`` (held-out paraphrases of every entry) and
``dev_out_of_scope.yaml`` (questions no entry answers); the regression suite and Bitext are never
read here. Printed, per candidate (0.05 steps): how many dev paraphrases would be answered
confidently and how precisely, and which dev out-of-scope questions would be.

The rules behind ``RouterSettings``' defaults:
- ``faq_min_score``: the lowest candidate above every dev out-of-scope question's best score;
- ``faq_min_margin``: kept at 0.15 unless the dev precision at that score falls below 95%
  (short ambiguous questions such as "refund" are not in dev data, and a smaller margin
  answered them from one of two entries).

Usage: ``python -m evals.calibrate_router`` (on the index ``beacon index build`` wrote).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from evals.harness.cases import read_cases
from evals.harness.suites import SUITES_DIR
from rag.knowledge import load_knowledge_base
from rag.retriever import FaqRetriever
from service.resources import build_retriever
from service.settings import Settings

CANDIDATES = tuple(round(0.30 + 0.05 * i, 2) for i in range(9))
PRECISION = 0.95
MARGIN = 0.15


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def best_two(retriever: FaqRetriever, suite: str) -> list[tuple[float, float, bool]]:
    """(top score, margin, top entry expected) per case of a dev suite."""
    rows = []
    for case in read_cases(SUITES_DIR / suite):
        found = retriever.search(case.question, k=2)
        top, second = found[0].score, found[1].score
        rows.append((top, top - second, found[0].id in case.expected_entries))
    return rows


@dataclass(frozen=True)
class Calibration:
    faq_min_score: float
    faq_min_margin: float
    precision: float
    """Of the dev paraphrases answered confidently at these thresholds, the share right."""
    table: tuple[str, ...]


def calibrate(retriever: FaqRetriever) -> Calibration:
    """The thresholds the rules above pick on ``retriever``'s KB, and the table behind them."""
    dev = best_two(retriever, "kb_heldout.yaml")
    off_topic = best_two(retriever, "dev_out_of_scope.yaml")
    highest_off_topic = max(top for top, _, _ in off_topic)
    table = [
        f"dev: {len(dev)} paraphrases, {len(off_topic)} out-of-scope questions",
        f"highest out-of-scope score: {highest_off_topic:.3f}",
        "score  confident  precision  out-of-scope confident",
    ]
    for score in CANDIDATES:
        confident = [ok for top, margin, ok in dev if top >= score and margin >= MARGIN]
        answered = sum(1 for top, margin, _ in off_topic if top >= score and margin >= MARGIN)
        precision = sum(confident) / len(confident) if confident else 1.0
        table.append(
            f"{score:5.2f}  {len(confident):4d}/{len(dev)}  {precision:9.1%}  {answered:6d}"
        )
    chosen = next(score for score in CANDIDATES if score > highest_off_topic)
    confident = [ok for top, margin, ok in dev if top >= chosen and margin >= MARGIN]
    precision = sum(confident) / len(confident) if confident else 1.0
    return Calibration(chosen, MARGIN, precision, tuple(table))


def main() -> int:
    settings = Settings()
    found = calibrate(build_retriever(settings, load_knowledge_base(settings.retrieval.kb_dir)))
    for line in found.table:
        say(line)
    say(
        f"faq_min_score={found.faq_min_score:.2f} faq_min_margin={found.faq_min_margin:.2f} "
        f"(precision {found.precision:.1%})"
    )
    return 0 if found.precision >= PRECISION else 1


if __name__ == "__main__":
    sys.exit(main())
