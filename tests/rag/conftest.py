"""Small bilingual knowledge bases and indexes built in ``tmp_path``, independent of rag/kb."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from rag.embeddings import HashingEmbeddings
from rag.index import FaqIndex, build_faq_index
from rag.knowledge import KnowledgeBase, load_knowledge_base
from rag.retriever import FaqRetriever

SMALL_KB: list[dict[str, Any]] = [
    {
        "id": "refund-request",
        "category": "refund",
        "intents": ["get_refund"],
        "source": "help-center/refunds/request",
        "version": 1,
        "question": {"en": "How do I request a refund?", "zh": "怎么申请退款？"},
        "paraphrases": {
            "en": ["I want my money back", "Can I get a refund for my order?", "refund please"],
            "zh": ["我要退款", "这个订单能退钱吗", "申请退款的流程是什么"],
        },
        "answer": {
            "en": "Open the order and choose Request refund.",
            "zh": "在订单页点击申请退款。",
        },
    },
    {
        "id": "order-cancel",
        "category": "order",
        "intents": ["cancel_order"],
        "source": "help-center/orders/cancel",
        "version": 2,
        "question": {"en": "How do I cancel my order?", "zh": "怎么取消订单？"},
        "paraphrases": {
            "en": ["cancel order", "I need to cancel a purchase", "stop my order before it ships"],
            "zh": ["取消订单", "我不想要了，订单怎么取消", "下错单了想取消"],
        },
        "answer": {
            "en": "Orders can be cancelled until they ship.",
            "zh": "订单发货前都可以取消。",
        },
    },
    {
        "id": "password-reset",
        "category": "account",
        "intents": ["recover_password"],
        "source": "help-center/account/password",
        "version": 1,
        "question": {"en": "How do I reset my password?", "zh": "忘记密码怎么办？"},
        "paraphrases": {
            "en": ["I forgot my password", "can't log in, lost my password", "change password"],
            "zh": ["密码忘了", "登录不了，密码不记得了", "怎么重置密码"],
        },
        "answer": {
            "en": "Use Forgot password on the sign-in page.",
            "zh": "在登录页点击忘记密码。",
        },
    },
    {
        "id": "delivery-time",
        "category": "delivery",
        "intents": ["delivery_period"],
        "source": "help-center/delivery/time",
        "version": 1,
        "question": {"en": "How long does delivery take?", "zh": "配送需要多长时间？"},
        "paraphrases": {
            "en": ["when will my package arrive", "shipping time", "how many days for delivery"],
            "zh": ["多久能到货", "快递几天能到", "配送时间"],
        },
        "answer": {"en": "Delivery takes 3-5 business days.", "zh": "配送一般需要 3-5 个工作日。"},
    },
]


def write_kb(kb_dir: Path, entries: list[dict[str, Any]], name: str = "faq.yaml") -> Path:
    """Write ``entries`` as one KB YAML file in ``kb_dir`` and return the directory."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False)
    (kb_dir / name).write_text(text, encoding="utf-8")
    return kb_dir


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A directory holding the small bilingual KB."""
    return write_kb(tmp_path / "kb", SMALL_KB)


@pytest.fixture
def small_kb(kb_dir: Path) -> KnowledgeBase:
    """The small bilingual KB, loaded through the YAML loader."""
    return load_knowledge_base(kb_dir)


@pytest.fixture
def small_index(small_kb: KnowledgeBase) -> FaqIndex:
    """An in-memory index of the small KB with hashing embeddings."""
    return build_faq_index(small_kb, HashingEmbeddings())


@pytest.fixture
def small_retriever(small_kb: KnowledgeBase, small_index: FaqIndex) -> FaqRetriever:
    """A retriever over the small KB."""
    return FaqRetriever(small_kb, small_index)


@pytest.fixture
def entry_factory() -> Callable[..., dict[str, Any]]:
    """Build a raw KB entry (a dict as in YAML) from SMALL_KB[0] with fields overridden."""

    def make(**overrides: Any) -> dict[str, Any]:
        return {**copy.deepcopy(SMALL_KB[0]), **overrides}

    return make
