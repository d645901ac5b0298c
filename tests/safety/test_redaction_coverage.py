"""Every format the security review found passing the redactor is now caught, by name.

Each case is a sentence with one value in it, the part of it that must never reach the client,
and the kind it is counted as. Each also streams one character at a time to the same output.
"""

from __future__ import annotations

import base64

import pytest

from service.pipeline.markup_patterns import sanitize_markup
from service.pipeline.redact import (
    RedactionKind,
    RedactionPolicy,
    StreamRedactor,
    load_redaction_policy,
    redact_text,
)

POLICY = load_redaction_policy()
CANARY = "BEACON-CANARY-7f3a9c"
K = RedactionKind
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

CASES = [
    # Cards with separators other than a space or a dash.
    ("card_dots", "card 4111.1111.1111.1111 ok", "1111.1111", K.CARD),
    ("card_nbsp", "card 4111\u00a01111\u00a01111\u00a01111 ok", "1111\u00a01111", K.CARD),
    ("card_newline", "card 4111\n1111\n1111\n1111 ok", "1111\n1111", K.CARD),
    ("card_zero_width_space", "card 4111\u200b1111\u200b1111\u200b1111 ok", "1111\u200b11", K.CARD),
    ("card_slashes", "card 4111/1111/1111/1111 ok", "1111/1111", K.CARD),
    ("card_en_dash", "card 4111–1111–1111–1111 ok", "1111–1111", K.CARD),
    ("card_double_spaces", "card 4111  1111  1111  1111 ok", "1111  1111", K.CARD),
    ("card_full_width_digits", "卡号４１１１１１１１１１１１１１１１", "１１１１１１", K.CARD),
    # CN resident IDs.
    ("cn_id_spaces", "身份证 110105 19491231 002X 谢谢", "19491231", K.CN_ID),
    ("cn_id_full_width", "身份证１１０１０５１９４９１２３１００２Ｘ", "１９４９１２３１", K.CN_ID),
    # Phones.
    ("cn_mobile_full_width", "电话１３８１２３４５６７８", "１２３４５６７８", K.PHONE),
    ("cn_mobile_dotted", "call 138.1234.5678 now", "1234.5678", K.PHONE),
    ("cn_mobile_3_3_5", "电话 138 123 45678 谢谢", "123 45678", K.PHONE),
    ("us_without_plus", "call (415) 555-2671 today", "555-2671", K.PHONE),
    ("us_dotted", "call 415.555.2671 today", "555.2671", K.PHONE),
    ("uk_without_plus", "ring 020 7946 0958 please", "7946 0958", K.PHONE),
    ("international_00_prefix", "ring 0044 20 7946 0958 please", "7946 0958", K.PHONE),
    ("full_width_plus", "call ＋44 20 7946 0958 now", "7946 0958", K.PHONE),
    # Emails.
    ("email_unicode_local_part", "write to jöran.müller@example.de today", "jöran", K.EMAIL),
    ("email_idn_domain", "write to info@例子.中国 today", "例子", K.EMAIL),
    ("email_punycode_domain", "write to info@xn--fsqu00a.xn--fiqs8s today", "xn--fsqu", K.EMAIL),
    ("email_full_width_at", "write to jane＠example.com today", "jane＠", K.EMAIL),
    ("email_long_local_part", f"write to {'a' * 90}@example.com now", "a" * 90, K.EMAIL),
    ("email_many_labels", "to x@a.b.c.d.e.f.g.h.i.j.example.com now", "x@a.b", K.EMAIL),
    # Secrets.
    (
        "aws_secret_key_bare",
        "key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
        "wJalrXUtn",
        K.SECRET,
    ),
    (
        "aws_secret_access_key_assignment",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtn",
        K.SECRET,
    ),
    ("db_password_assignment", "DB_PASSWORD=Tr0ub4dor&3 in .env", "Tr0ub4dor", K.SECRET),
    ("jwt_bare", f"token {JWT} expires", "SflKxwRJ", K.SECRET),
    ("pem_private_key", f"key:\n{PEM}\ndone", "MIIEowIBAAK", K.SECRET),
    ("google_api_key", "key AIzaSyA1234567890abcdefghijklmnopqrstuv ok", "AIzaSyA123", K.SECRET),
    ("slack_token", "token xoxb-1234567890-abcdefghijkl ok", "xoxb-1234", K.SECRET),
    ("very_long_sk_key", "key sk-" + "Ab3" * 120 + " ok", "Ab3Ab3Ab3", K.SECRET),
    ("very_long_bearer", "Authorization: Bearer " + "x9Y" * 900 + " ok", "x9Yx9Y", K.SECRET),
    ("password_in_prose", "my password is hunter22 so log in", "hunter22", K.SECRET),
    ("password_in_chinese_prose", "我的密码是abc12345，请帮我登录", "abc12345", K.SECRET),
    # New kinds.
    ("iban", "IBAN DE89 3704 0044 0532 0130 00 please", "3704 0044", K.IBAN),
    ("iban_compact", "IBAN GB82WEST12345698765432 please", "WEST1234", K.IBAN),
    ("us_ssn", "SSN 123-45-6789 on file", "123-45-6789", K.SSN),
    ("ipv4", "from 192.168.10.20 at noon", "192.168", K.IP_ADDRESS),
    ("ipv6", "from 2001:db8:85a3::8a2e:370:7334 at noon", "8a2e", K.IP_ADDRESS),
]


def _stream_by_char(text: str, policy: RedactionPolicy) -> str:
    redactor = StreamRedactor(policy, canaries=[CANARY])
    return "".join(redactor.feed(ch) for ch in text) + redactor.flush()


@pytest.mark.parametrize(
    ("text", "secret", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reported_format_is_redacted(text: str, secret: str, kind: RedactionKind) -> None:
    """The value is replaced, counted as its kind, and streaming gives the same text."""
    result = redact_text(text, POLICY, canaries=[CANARY])
    assert secret not in result.text
    assert result.counts[kind] == 1
    assert _stream_by_char(text, POLICY) == result.text


def test_ordinary_numbers_and_words_are_left_alone() -> None:
    """Prices, dates, order numbers, versions and prose about passwords are not redacted."""
    text = (
        "Order BC-100231 of 2024-05-01 cost 1,299.00 (4412-778); the password is required. "
        "请在 7 天内申请退款，订单号 100231。Call us at 10:30."
    )
    assert redact_text(text, POLICY, canaries=[CANARY]).text == text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CANARY_CASES = [
    ("canary_full_width", "".join(chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in CANARY)),
    ("canary_zero_width_spaced", "\u200b".join(CANARY)),
    ("canary_spaced", " ".join(CANARY)),
    ("canary_homoglyph", CANARY.replace("A", "А").replace("C", "С").replace("E", "Е")),
    ("canary_base64", _b64(f"the marker is {CANARY} ok")),
    ("canary_reversed", CANARY[::-1]),
    ("canary_lower_case_without_dashes", CANARY.lower().replace("-", "")),
]


@pytest.mark.parametrize("text", [c[1] for c in CANARY_CASES], ids=[c[0] for c in CANARY_CASES])
def test_canary_variant_blocks_the_answer(text: str) -> None:
    """A disguised canary blocks the answer, in one piece or streamed a character at a time."""
    result = redact_text(f"Sure: {text} is it.", POLICY, canaries=[CANARY])
    assert result.blocked_kind is RedactionKind.CANARY
    assert result.text.startswith("Sure: ") and len(result.text) < 6 + len(text) // 2
    assert "is it" not in result.text
    assert _stream_by_char(f"Sure: {text} is it.", POLICY) == result.text


MARKUP_CASES = [
    ("img_srcset", 'a <img srcset="https://evil.example/x.png 2x"> b', "srcset"),
    ("video_poster", 'a <video poster="https://evil.example/p.png"></video> b', "poster"),
    ("link_href", 'a <link rel=stylesheet href="https://evil.example/s.css"> b', "href"),
    ("object_data", 'a <object data="https://evil.example/o.swf"></object> b', "data="),
    ("css_url", 'a <div style="background:url(https://evil.example/x)">b</div>', "url("),
    ("css_url_in_style_element", "a <style>p{background:url(//evil.example/x)}</style> b", "url("),
    ("meta_refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example">', "refresh"),
    ("img_alt_with_gt_then_onerror", '<img alt=">" onerror=alert(1)> hi', "<img"),
    ("markdown_reference_image", "see ![x][logo]\n\n[logo]: https://evil.example/p.png", "evil"),
    ("javascript_with_entity", '<a href="jav&#x61;script:alert(1)">x</a>', "script:"),
    ("javascript_with_tab", "[x](java\tscript:alert(1))", "script:"),
    ("data_text_html", "[x](data:text/html;base64,PHNjcmlwdD4=)", "text/html"),
]


@pytest.mark.parametrize(
    ("text", "gone"), [c[1:] for c in MARKUP_CASES], ids=[c[0] for c in MARKUP_CASES]
)
def test_markup_vector_is_removed(text: str, gone: str) -> None:
    """The vector's active part is gone from the output, streamed or not."""
    result = redact_text(text, POLICY)
    assert gone not in result.text
    assert result.counts[RedactionKind.MARKUP] >= 1
    assert _stream_by_char(text, POLICY) == result.text


def test_allowed_bare_tags_and_relative_images_stay() -> None:
    """Bare allow-listed tags and same-site images pass untouched."""
    text = "<b>Bold</b>, <em>em</em>, <br/> and ![logo](images/logo.png)"
    assert redact_text(text, POLICY).text == text


def test_sanitize_markup_keeps_only_bare_allowed_tags() -> None:
    """The renderer's sanitiser (ammonia) drops attributes, scripts and unknown tags."""
    html = '<p onclick="x()">Hi <b>there</b><img src=x onerror=y()><script>z()</script></p>'
    assert sanitize_markup(html) == "<p>Hi <b>there</b></p>"


def test_every_redaction_kind_is_a_metric_label() -> None:
    """`beacon_redactions_total{kind}` is pre-initialised for every kind, the new ones too."""
    from service.observability.metrics import REDACTION_KINDS

    assert set(REDACTION_KINDS) == {kind.value for kind in RedactionKind}
