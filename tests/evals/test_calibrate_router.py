"""The router's shipped thresholds are the ones its dev-data calibration picks on the shipped KB."""

from __future__ import annotations

from pathlib import Path

from evals.calibrate_router import PRECISION, calibrate
from rag.knowledge import load_knowledge_base
from service.pipeline.route import RouteThresholds
from service.resources import build_retriever
from service.settings import DEFAULT_KB_DIR, RouterSettings, Settings


def test_shipped_thresholds_are_the_dev_calibration(demo_index_dir: Path) -> None:
    """A KB change that moves the calibration fails here until the defaults are rerun."""
    settings = Settings.model_validate({"retrieval": {"index_dir": demo_index_dir}})
    retriever = build_retriever(settings, load_knowledge_base(DEFAULT_KB_DIR))
    english, chinese = calibrate(retriever, "en"), calibrate(retriever, "zh")
    shipped, thresholds = RouterSettings(), RouteThresholds()
    calibrated = (
        english.answer_min_score,
        chinese.answer_min_score,
        english.faq_min_score,
        chinese.faq_min_score,
        english.faq_min_margin,
        chinese.faq_min_margin,
    )
    assert calibrated == (
        shipped.answer_min_score,
        shipped.answer_min_score_zh,
        shipped.faq_min_score,
        shipped.faq_min_score_zh,
        shipped.faq_min_margin,
        shipped.faq_min_margin,
    )
    assert (
        thresholds.refusal_score("en"),
        thresholds.refusal_score("zh"),
        thresholds.confident_score("en"),
        thresholds.confident_score("zh"),
    ) == calibrated[:4]
    assert thresholds.faq_min_margin == shipped.faq_min_margin
    assert english.precision >= PRECISION and chinese.precision >= PRECISION
