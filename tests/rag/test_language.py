"""Language detection and text normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.language import content_tokens, detect_language, normalize_text, tokenize


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How do I cancel my order?", "en"),
        ("怎么取消订单？", "zh"),
        ("我的 order 怎么 cancel", "zh"),
        ("refund 什么时候到账", "zh"),
        ("My order number is 12345, where is it?", "en"),
        ("Can I pay with my credit card at the 北 store today please?", "en"),
        ("", "en"),
        ("!!! ???", "en"),
    ],
)
def test_detect_language_by_share_of_han_characters(text: str, lang: str) -> None:
    """Text whose Han characters are a meaningful share is zh, pure or mostly latin text is en."""
    assert detect_language(text) == lang


def test_normalize_text_folds_width_case_spaces_and_invisibles() -> None:
    """normalize_text applies NFKC and casefold, drops zero-width characters, collapses spaces."""
    raw = "  ＲＥＦＵＮＤ\u200b  Straße\t\n  退款\ufeff！ "
    assert normalize_text(raw) == "refund strasse 退款!"


def test_tokenize_splits_han_runs_from_latin_words() -> None:
    """Han runs and latin words become separate tokens even without spaces; punctuation goes."""
    assert tokenize(normalize_text("我的order怎么cancel?")) == ["我的", "order", "怎么", "cancel"]


@given(st.text())
def test_normalize_text_is_idempotent_and_total(text: str) -> None:
    """normalize_text never raises, is idempotent, and leaves no edge or double whitespace."""
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "  " not in once


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
NON_HAN = st.characters(exclude_categories=["Cs"]).filter(
    lambda c: not ("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
)
WORD = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@given(st.text(NON_HAN))
def test_detect_language_without_han_is_english(text: str) -> None:
    """Text without Han characters is never detected as Chinese, whatever else it holds."""
    assert detect_language(text) == "en"


@given(st.text(HAN, min_size=1), st.lists(WORD))
def test_detect_language_with_mostly_han_is_chinese(han: str, words: list[str]) -> None:
    """Han text stays zh when at most as many latin words as Han characters are mixed in."""
    assert detect_language(han + " " + " ".join(words[: len(han)])) == "zh"


def test_chinese_is_segmented_into_words() -> None:
    """Words, not bigrams: a paraphrase shares its words with the KB's wording."""
    from rag.language import han_words
    from rag.retriever import lexical_terms

    assert han_words("退货要在多少天之内") == ["退货", "要", "在", "多少", "天", "之内"]
    shared = lexical_terms("退货要在多少天之内") & lexical_terms("退货期限是多少天？")
    assert shared == {"退货", "多少", "天"}
    assert lexical_terms("我的 orders 怎么退货") == {"我", "的", "order", "怎么", "退货"}


def test_identifiers_carry_no_meaning_short_numbers_do() -> None:
    """An order, phone or card number is left out; "7 days" and "2fa" keep their numbers."""
    assert content_tokens("cancel order 113542617735902") == ["cancel", "order"]
    assert content_tokens("退货 7 天 2fa 1234") == ["退货", "7", "天", "2fa", "1234"]
    assert content_tokens("bc 100003") == ["bc"]


@given(st.text())
def test_content_tokens_are_tokens(text: str) -> None:
    """Leaving identifiers out only ever removes whole all-digit tokens of five or more."""
    normalized = normalize_text(text)
    kept, tokens = content_tokens(normalized), tokenize(normalized)
    dropped = list(tokens)
    for token in kept:
        dropped.remove(token)
    assert all(token.isdigit() and len(token) >= 5 for token in dropped)
