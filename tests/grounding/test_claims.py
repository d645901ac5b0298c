"""Claims: what is extracted, how forms and languages normalise, and that scanning is linear."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.grounding.check import check_answer
from service.grounding.claims import ClaimKind, extract_claims


def keys(text: str) -> list[tuple[str, ...]]:
    return [claim.key for claim in extract_claims(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Refunds arrive within 5–10 business days.",
        "Refunds arrive within 5-10 working days.",
        "Refunds arrive within 5 to 10 business days.",
        "Refunds arrive within five to ten business days.",
        "退款会在 5-10 个工作日内到账。",
        "退款会在五到十个工作日内到账。",
        "退款会在５～１０个工作日内到账。",
        "退款会在 5 至 10 个工作日内到账。",
    ],
)
def test_range_forms_share_one_key(text: str) -> None:
    """Every written form of "5 to 10 business days", in either language, has one key."""
    assert keys(text) == [("duration", "business_day", "5", "10")]


@pytest.mark.parametrize(
    ("text", "kind", "key"),
    [
        ("Standard delivery costs $4.99.", ClaimKind.AMOUNT, ("amount", "USD", "4.99", "4.99")),
        ("运费 4.99 美元。", ClaimKind.AMOUNT, ("amount", "USD", "4.99", "4.99")),
        ("Gift cards from $10 to $500.", ClaimKind.AMOUNT, ("amount", "USD", "10", "500")),
        ("Save 10% today.", ClaimKind.PERCENT, ("percent", "10", "10")),
        ("立减百分之十。", ClaimKind.PERCENT, ("percent", "10", "10")),
        ("Open at 8am.", ClaimKind.TIME, ("time", "8", "00")),
        ("Placed on 2026-01-05.", ClaimKind.DATE, ("date", "2026", "1", "5")),
        ("1月5日发货。", ClaimKind.DATE, ("date", "1", "5")),
        ("Call 400-820-8820 now.", ClaimKind.PHONE, ("phone", "4008208820")),
        ("See https://Shop.example.com/help/.", ClaimKind.URL, ("url", "shop.example.com/help")),
        ("Mail help@shop.example.com.", ClaimKind.EMAIL, ("email", "help@shop.example.com")),
        ("Your order BC-100001 shipped.", ClaimKind.IDENTIFIER, ("identifier", "BC-100001")),
        (
            "Ticket HO-5d0a2ca57d67 is open.",
            ClaimKind.IDENTIFIER,
            ("identifier", "HO-5d0a2ca57d67"),
        ),
        ("You get store credit.", ClaimKind.TERM, ("term", "store_credit")),
        ("款项原路退回。", ClaimKind.TERM, ("term", "original_payment")),
        ("Enter the 6-digit code.", ClaimKind.NUMBER, ("number", "6")),
    ],
)
def test_each_kind_is_recognised(text: str, kind: ClaimKind, key: tuple[str, ...]) -> None:
    """Each kind of claim is found with its language-neutral key."""
    claims = extract_claims(text)
    assert [(claim.kind, claim.key) for claim in claims] == [(kind, key)]


def test_number_word_without_a_unit_claims_nothing() -> None:
    """ "One of our agents" is not a number a customer could hold the shop to."""
    assert extract_claims("One of our agents will call you back.") == []


def test_times_of_a_range_are_two_claims() -> None:
    """Opening hours 8:00–22:00 claim two times of day."""
    assert keys("Open 8:00–22:00 daily.") == [("time", "8", "00"), ("time", "22", "00")]


@pytest.mark.parametrize(
    "text",
    [
        "1-" * 100_000,
        "1," * 100_000,
        "a" * 200_000 + "@",
        "@" * 200_000,
        "a@" * 100_000,
        "http://" + "a" * 200_000,
        "五到" * 100_000,
        "1 " * 100_000 + "x",
        "BC" * 100_000,
        "$" * 100_000 + "5",
        "one to " * 30_000,
    ],
)
def test_scanning_adversarial_text_is_linear(text: str) -> None:
    """Inputs built to make a backtracking matcher quadratic are scanned in one pass: each of
    these 200,000-character texts would take minutes if any pattern backtracked."""
    claims = extract_claims(text)
    assert all(0 <= claim.start < claim.end <= len(text) for claim in claims)


UNITS = ["days", "business days", "hours", "个工作日", "天", "美元", "%", "分钟"]


@given(
    value=st.integers(min_value=1, max_value=9999),
    unit=st.sampled_from(UNITS),
    filler=st.sampled_from(["Good news: ", "根据帮助中心：", "", "Yes, "]),
)
def test_claim_taken_verbatim_from_evidence_is_supported(
    value: int, unit: str, filler: str
) -> None:
    """A claim copied from the evidence into any sentence is supported."""
    evidence = f"Refunds and returns are handled within {value} {unit} of the request."
    answer = f"{filler}It is handled within {value} {unit}."
    assert check_answer(answer, [evidence]).grounded


@given(
    value=st.integers(min_value=1, max_value=9999),
    delta=st.integers(min_value=1, max_value=50),
    unit=st.sampled_from(UNITS),
)
def test_changing_a_number_makes_the_claim_unsupported(value: int, delta: int, unit: str) -> None:
    """The same claim with another number is not supported by the evidence."""
    evidence = f"Refunds are handled within {value} {unit}."
    answer = f"Refunds are handled within {value + delta} {unit}."
    report = check_answer(answer, [evidence])
    assert not report.grounded
    assert [claim.text for claim in report.unsupported] == [f"{value + delta} {unit}"]


def test_dropping_a_business_day_condition_is_unsupported() -> None:
    """ "5 days" is not what "5 business days" promises."""
    report = check_answer("It takes 5 days.", ["It takes 5 business days."])
    assert [claim.key for claim in report.unsupported] == [("duration", "day", "5", "5")]


def test_invented_url_is_unsupported() -> None:
    """A URL that is not in the evidence is an unsupported claim."""
    report = check_answer("See https://help.example.com/x.", ["Go to Account > Orders."])
    assert [claim.kind for claim in report.unsupported] == [ClaimKind.URL]


def test_sentence_support_score_reflects_shared_words() -> None:
    """A sentence made of the evidence's words scores 1, an unrelated one scores low."""
    report = check_answer(
        "Open the order page. Bananas grow quickly.", ["Open the order page to see it."]
    )
    assert [sentence.score for sentence in report.sentences] == [1.0, 0.0]
