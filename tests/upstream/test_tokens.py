"""Answer text is cut into model-sized pieces and token counts are estimated without a tokenizer."""

from __future__ import annotations

from evals.upstream.tokens import estimate_tokens, is_chinese, split_tokens


def test_pieces_join_back_to_the_text() -> None:
    """Splitting loses nothing: the pieces concatenate to the original text."""
    text = "Hello,  internationalization v1.2!\n退款会在5个工作日内处理。 Done "
    assert "".join(split_tokens(text)) == text


def test_english_words_are_short_pieces_with_leading_space() -> None:
    """Short words stay whole with their space; long words are cut into pieces of at most 4."""
    assert split_tokens("Reset your internationalization") == [
        "Reset",
        " your",
        " inte",
        "rnat",
        "iona",
        "liza",
        "tion",
    ]


def test_chinese_is_cut_into_one_and_two_character_pieces() -> None:
    """Runs of Han characters alternate two- and one-character pieces."""
    assert split_tokens("退款会在五天内") == ["退款", "会", "在五", "天", "内"]


def test_estimate_counts_han_characters_and_latin_quarters() -> None:
    """One token per Han character plus ceil(other characters / 4)."""
    assert estimate_tokens("退款abcd") == 2 + 1
    assert estimate_tokens("abcdefghi") == 3


def test_chinese_detection_uses_share_of_han() -> None:
    """Mostly-Chinese text is Chinese; an English sentence with one brand name is not."""
    assert is_chinese("我的 order 怎么取消？")
    assert not is_chinese("How do I pay with 支付宝 on the mobile app today?")
