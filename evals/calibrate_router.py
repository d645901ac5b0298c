"""Calibrate the router's thresholds per language on dev data only, after the KB changes.

Dev data is ``kb_heldout.yaml`` (held-out paraphrases of every entry, two rounds, the second
harder) and ``dev_out_of_scope.yaml`` (questions no entry answers), each in English and Chinese;
the regression suite and Bitext are never read here. Every case is routed as the service routes
it (``choose_route`` on the features of its search; a message of several questions part by part)
at each candidate threshold, and the outcomes are counted: answered right or wrong, clarified,
refused, sent to a person (risky).

The rules behind ``RouterSettings``' defaults, per language (Chinese is matched on Han n-grams and
words, English on words and character n-grams, and their scores run on different scales):
- ``answer_min_score`` / ``answer_min_score_zh`` (refuse below it): the lowest candidate (0.01
  steps) at which at most 5% of that language's dev out-of-scope questions would be clarified
  instead of refused. Lower, and off-topic questions get suggestions; higher, and questions the
  KB answers are turned away instead of clarified.
- ``faq_min_score`` / ``faq_min_score_zh`` (answer from above it): the candidate (0.05 steps)
  with the most dev questions answered right less ten for each answered wrong or out of scope:
  one bad answer costs ten good ones.
- ``faq_min_margin``: 0.15, both languages. Dev data has few questions as ambiguous as "refund"
  or "address" (two entries, both likely), and a smaller margin answered those from one entry.

The run fails when the dev answers at the chosen thresholds are less than 98% right.

Usage: ``python -m evals.calibrate_router`` (on the index ``beacon index build`` wrote).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from evals.harness.cases import Case, read_cases
from evals.harness.suites import SUITES_DIR
from rag.knowledge import load_knowledge_base
from rag.language import LANGS, Lang
from rag.retriever import FaqRetriever
from service.pipeline.parts import MAX_PARTS, count_parts, split_parts
from service.pipeline.route import (
    Route,
    RouteFeatures,
    RouteThresholds,
    choose_route,
    extract_features,
)
from service.resources import build_retriever
from service.settings import Settings

REFUSAL_CANDIDATES = tuple(round(0.20 + 0.01 * i, 2) for i in range(31))
CONFIDENT_CANDIDATES = tuple(round(0.30 + 0.05 * i, 2) for i in range(9))
MARGIN = 0.15
CLARIFIED_OFF_TOPIC = 0.05
BAD_ANSWER_COST = 10
PRECISION = 0.98

Outcome = str
"""``right``, ``wrong`` (answered from an entry not expected), ``clarify``, ``out_of_scope``,
``risky`` or ``tool``."""


@dataclass(frozen=True)
class DevCase:
    case: Case
    features: RouteFeatures
    top: str | None
    """The entry the answer would come from (None: nothing found)."""

    def outcome(self, thresholds: RouteThresholds) -> Outcome:
        route = choose_route(self.features, thresholds).route
        if route in (Route.FAQ, Route.EASY, Route.HARD):
            return "right" if self.top in self.case.expected_entries else "wrong"
        return route.value


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def dev_cases(retriever: FaqRetriever, suite: str) -> list[DevCase]:
    """Each case of a dev suite with the features the router sees (language from the text)."""
    found = []
    for case in read_cases(SUITES_DIR / suite):
        evidence = retriever.search(case.question, k=3)
        pieces = split_parts(case.question) if count_parts(case.question) >= 2 else []
        parts = [retriever.search(piece, k=3) for piece in pieces[:MAX_PARTS]]
        features = extract_features(case.question, evidence, parts=parts)
        found.append(DevCase(case, features, evidence[0].id if evidence else None))
    return found


@dataclass(frozen=True)
class Calibration:
    lang: Lang
    answer_min_score: float
    faq_min_score: float
    faq_min_margin: float
    precision: float
    """Of the dev questions answered at these thresholds, the share answered right."""
    table: tuple[str, ...]


def _thresholds(answer_min: float, confident: float) -> RouteThresholds:
    return RouteThresholds(
        faq_min_score=confident,
        faq_min_score_zh=confident,
        faq_min_margin=MARGIN,
        answer_min_score=answer_min,
        answer_min_score_zh=answer_min,
    )


def _count(cases: Sequence[DevCase], thresholds: RouteThresholds) -> Counter[Outcome]:
    return Counter(case.outcome(thresholds) for case in cases)


def calibrate(retriever: FaqRetriever, lang: Lang) -> Calibration:
    """The thresholds the rules above pick for ``lang`` on ``retriever``'s KB, and the table."""
    dev = [c for c in dev_cases(retriever, "kb_heldout.yaml") if c.features.lang == lang]
    off_topic = [
        c for c in dev_cases(retriever, "dev_out_of_scope.yaml") if c.features.lang == lang
    ]
    never_confident = 1.01
    answer_min = next(
        score
        for score in REFUSAL_CANDIDATES
        if _count(off_topic, _thresholds(score, never_confident))["clarify"]
        <= CLARIFIED_OFF_TOPIC * len(off_topic)
    )
    table = [
        f"{lang}: {len(dev)} dev questions, {len(off_topic)} out-of-scope; "
        f"refuse below {answer_min:.2f}",
        "confident  right wrong clarified refused risky | out of scope: answered clarified",
    ]
    best: tuple[float, float] | None = None
    for confident in CONFIDENT_CANDIDATES:
        thresholds = _thresholds(answer_min, confident)
        mine, theirs = _count(dev, thresholds), _count(off_topic, thresholds)
        answered_off_topic = theirs["right"] + theirs["wrong"]
        table.append(
            f"{confident:9.2f}  {mine['right']:5d} {mine['wrong']:5d} {mine['clarify']:9d} "
            f"{mine['out_of_scope']:7d} {mine['risky']:5d} | {answered_off_topic:22d} "
            f"{theirs['clarify']:9d}"
        )
        utility = mine["right"] - BAD_ANSWER_COST * (mine["wrong"] + answered_off_topic)
        if best is None or utility > best[0]:
            best = (utility, confident)
    assert best is not None
    chosen = best[1]
    mine = _count(dev, _thresholds(answer_min, chosen))
    answered = mine["right"] + mine["wrong"]
    precision = mine["right"] / answered if answered else 1.0
    return Calibration(lang, answer_min, chosen, MARGIN, precision, tuple(table))


def main() -> int:
    settings = Settings()
    retriever = build_retriever(settings, load_knowledge_base(settings.retrieval.kb_dir))
    found = [calibrate(retriever, lang) for lang in LANGS]
    for calibration in found:
        for line in calibration.table:
            say(line)
        say(
            f"{calibration.lang}: answer_min_score={calibration.answer_min_score:.2f} "
            f"faq_min_score={calibration.faq_min_score:.2f} "
            f"faq_min_margin={calibration.faq_min_margin:.2f} "
            f"(precision {calibration.precision:.1%})\n"
        )
    return 0 if all(calibration.precision >= PRECISION for calibration in found) else 1


if __name__ == "__main__":
    sys.exit(main())
