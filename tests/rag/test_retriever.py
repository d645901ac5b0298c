"""Hybrid retrieval: bilingual hits, confidence scores, and behaviour under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from evals.harness.cases import read_cases
from evals.harness.suites import SUITES_DIR
from rag.embeddings import HashingEmbeddings
from rag.index import build_faq_index
from rag.knowledge import KnowledgeBase, knowledge_base_from_entries, load_knowledge_base
from rag.language import Lang
from rag.matcher import MatcherParams
from rag.retriever import FaqRetriever
from service.settings import RouterSettings
from tests.rag.test_knowledge import DEMO_KB_DIR

KB_HELDOUT = SUITES_DIR / "kb_heldout.yaml"
DEV_OUT_OF_SCOPE = SUITES_DIR / "dev_out_of_scope.yaml"
OUT_OF_SCOPE = [
    "What is the capital of France?",
    "今天天气怎么样",
    "Write me a poem about the sea",
    "推荐一部电影",
    "asdfghjkl",
]


@pytest.mark.parametrize(
    ("question", "entry", "lang"),
    [
        ("I'd like my money back please", "refund-request", "en"),
        ("how can I cancel an order", "order-cancel", "en"),
        ("forgot my password, can't sign in", "password-reset", "en"),
        ("我想退钱", "refund-request", "zh"),
        ("订单不想要了怎么取消", "order-cancel", "zh"),
        ("密码不记得了", "password-reset", "zh"),
        ("快递要几天才到", "delivery-time", "zh"),
        ("我的 order 怎么 cancel", "order-cancel", "zh"),
    ],
)
def test_search_finds_the_entry_in_the_question_language(
    small_retriever: FaqRetriever, question: str, entry: str, lang: Lang
) -> None:
    """Unseen paraphrases in English, Chinese or a mix retrieve the entry, answered in kind."""
    top = small_retriever.search(question, k=3)[0]
    assert (top.id, top.lang) == (entry, lang)
    kb_entry = small_retriever.kb.get(entry)
    assert kb_entry is not None
    assert top.answer == kb_entry.answer_in(lang)
    assert top.title == kb_entry.title(lang)
    assert (top.source, top.version) == (kb_entry.source, kb_entry.version)


def test_search_returns_distinct_entries_best_first(small_retriever: FaqRetriever) -> None:
    """Results are distinct entries with scores in [0, 1], sorted, at most k of them."""
    hits = small_retriever.search("refund my order", k=3)
    assert len(hits) == 3 == len({hit.id for hit in hits})
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    for hit in hits:
        assert 0.0 <= hit.score <= 1.0
        assert all(0.0 <= part <= 1.0 for part in (hit.dense, hit.lexical, hit.matcher))
    assert len(small_retriever.search("refund", k=10)) == 4


def test_search_of_empty_question_returns_nothing(small_retriever: FaqRetriever) -> None:
    """A question without words, or k=0, returns no evidence rather than arbitrary entries."""
    assert small_retriever.search("  ？！ ", k=3) == []
    assert small_retriever.search("refund", k=0) == []


def test_exact_question_scores_high_and_off_topic_low(small_retriever: FaqRetriever) -> None:
    """A KB question scores far above any off-topic question, in both languages."""
    for question in ("How do I request a refund?", "怎么取消订单？"):
        hits = small_retriever.search(question, k=2)
        assert hits[0].score > 0.6 and hits[0].score - hits[1].score > 0.3
    for question in OUT_OF_SCOPE:
        assert small_retriever.search(question, k=1)[0].score < 0.25


def test_search_is_thread_safe(small_retriever: FaqRetriever) -> None:
    """Concurrent searches return exactly what sequential searches return."""
    questions = ["refund please", "取消订单", "password", "多久到货", "weather"] * 40
    expected = [small_retriever.search(q, k=3) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(lambda q: small_retriever.search(q, k=3), questions)) == expected


DEMO_IN_SCOPE = [
    ("I want my money back for this order", "refund-request"),
    ("where's my package right now", "order-track"),
    ("I forgot my password and can't log in", "password-recover"),
    ("can I pay with paypal", "payment-methods"),
    ("I want to speak to a real person", "contact-human-agent"),
    ("退款什么时候到账", "refund-track"),
    ("可以用支付宝付款吗", "payment-methods"),
    ("收到的东西是坏的", "damaged-item"),
    ("优惠券用不了", "promo-code-not-working"),
    ("我的 order 怎么 cancel", "order-cancel"),
]


def test_demo_kb_separates_in_scope_from_out_of_scope() -> None:
    """On the shipped KB, unseen paraphrases hit their entry above the router's refusal threshold,
    and that threshold answers most held-out paraphrases while refusing most off-topic questions."""
    kb = load_knowledge_base(DEMO_KB_DIR)
    retriever = FaqRetriever(kb, build_faq_index(kb, HashingEmbeddings()))
    threshold = RouterSettings().answer_min_score
    for question, entry in DEMO_IN_SCOPE:
        top = retriever.search(question, k=2)[0]
        assert top.id == entry and top.score >= threshold, question
    in_scope = [retriever.search(c.question, k=1)[0].score for c in read_cases(KB_HELDOUT)]
    off_topic = [retriever.search(c.question, k=1)[0].score for c in read_cases(DEV_OUT_OF_SCOPE)]
    assert sum(score >= threshold for score in in_scope) / len(in_scope) >= 0.9
    assert sum(score < threshold for score in off_topic) / len(off_topic) >= 0.7


def test_matcher_scores_are_calibrated_on_the_demo_kb() -> None:
    """Index build fits the matcher's score curve on held-out folds (not the fixed default)."""
    kb = load_knowledge_base(DEMO_KB_DIR)
    params = build_faq_index(kb, HashingEmbeddings()).matcher.params
    assert (params.slope, params.offset) != (MatcherParams.slope, MatcherParams.offset)
    assert params.slope > 0


def test_single_entry_kb_still_scores_matches_high(small_kb: KnowledgeBase) -> None:
    """With one entry the matcher abstains, and dense plus lexical carry the whole score."""
    kb = knowledge_base_from_entries(small_kb.entries[:1])
    retriever = FaqRetriever(kb, build_faq_index(kb, HashingEmbeddings()))
    assert retriever.fusion.matcher == 0.0
    assert retriever.fusion.dense + retriever.fusion.lexical == pytest.approx(1.0)
    assert retriever.search("How do I request a refund?", k=1)[0].score > 0.8
    assert retriever.search("What is the capital of France?", k=1)[0].score < 0.3
