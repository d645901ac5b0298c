"""GroundingFilter: claim-free text streams at once, unsupported claims never reach the client."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.grounding.check import index_evidence
from service.grounding.policy import GroundingPolicy, UnsupportedAction
from service.grounding.stream import GroundingFilter

EVIDENCE = [
    "Standard delivery takes 3–5 business days and costs $4.99, free on orders over $49.",
    "标准配送 3–5 个工作日，运费 4.99 美元，满 49 美元包邮。",
]
INDEX = index_evidence(EVIDENCE)


def run(text: str, cuts: list[int], **kwargs: object) -> tuple[str, GroundingFilter]:
    grounding = GroundingFilter(INDEX, title="Delivery options", **kwargs)  # type: ignore[arg-type]
    out, at = [], 0
    for cut in sorted(cuts):
        out.append(grounding.feed(text[at:cut]))
        at = cut
    out.append(grounding.feed(text[at:]))
    out.append(grounding.flush())
    return "".join(out), grounding


def test_claim_free_text_streams_at_once() -> None:
    """Text before any claim is released on the chunk that brings it."""
    grounding = GroundingFilter(INDEX)
    assert grounding.feed("Sure, happy to help. Our team ") == "Sure, happy to help. Our team "


def test_supported_answer_streams_unchanged() -> None:
    """An answer whose claims are all in the evidence comes out byte for byte."""
    text = "Standard delivery takes 3-5 business days and costs $4.99. Anything else?"
    out, grounding = run(text, [5, 30, 31, 60])
    assert out == text
    assert grounding.grounded == "supported"
    assert grounding.checked == 2


def test_unsupported_claim_is_held_and_replaced_in_english() -> None:
    """A wrong number never leaves the filter: its sentence tail points to the cited entry."""
    grounding = GroundingFilter(INDEX, title="Delivery options")
    released = grounding.feed("Delivery takes 3 business days.") + grounding.feed(" Bye")
    released += grounding.flush()
    assert "3 business" not in released
    assert released == (
        "Delivery takes — please check “Delivery options” in our help centre for the exact "
        "details. Bye"
    )
    assert [claim.text for claim in grounding.findings] == ["3 business days"]


def test_unsupported_claim_is_replaced_in_chinese() -> None:
    """The replacement speaks the answer's language."""
    out, grounding = run("标准配送 2 个工作日送达。", [3, 7], lang="zh")
    assert out == "标准配送 ——具体请以帮助中心“Delivery options”中的说明为准。"
    assert grounding.grounded == "unsupported"


def test_handoff_policy_ends_the_answer_with_an_offer_of_a_human() -> None:
    """With the handoff policy the answer stops at the unsupported claim."""
    policy = GroundingPolicy(action=UnsupportedAction.HANDOFF)
    out, grounding = run("It costs $9.99. Then more text.", [4], policy=policy)
    assert out.startswith("It costs — I'd rather not guess")
    assert "Then more" not in out
    assert grounding.ended


def test_observe_policy_releases_unchanged_but_reports() -> None:
    """The observe policy changes nothing and still counts the unsupported claim."""
    policy = GroundingPolicy(action=UnsupportedAction.OBSERVE)
    out, grounding = run("It costs $9.99.", [3], policy=policy)
    assert out == "It costs $9.99."
    assert [claim.key for claim in grounding.findings] == [("amount", "USD", "9.99", "9.99")]


PIECES = [
    "Delivery ",
    "takes ",
    "3",
    "-5",
    " business",
    " days",
    ". ",
    "five to ten",
    " days",
    "one ",
    "onerous ",
    "tw",
    "enty ",
    "$4.99",
    "$9.99",
    " free",
    "store",
    " credit",
    "标准",
    "配送",
    "3",
    "个工作日",
    "。",
    "免费",
    "一",
    "五到十天",
    "https://x.example/a",
    "@",
    "a.b",
    "help@shop.example.com",
    "\n",
    "!",
    " ",
    ".",
    "４",
    "BC-100001",
]


@settings(max_examples=300)
@given(
    parts=st.lists(st.sampled_from(PIECES), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    action=st.sampled_from(list(UnsupportedAction)),
)
def test_any_chunking_gives_the_one_shot_output(
    parts: list[str], cuts: list[int], action: UnsupportedAction
) -> None:
    """For any split into chunks the output equals feeding the whole text at once."""
    text = "".join(parts)
    policy = GroundingPolicy(action=action)
    streamed, _ = run(text, [cut for cut in cuts if cut <= len(text)], policy=policy)
    whole, _ = run(text, [], policy=policy)
    assert streamed == whole


@given(st.text(max_size=300))
def test_any_text_gives_the_same_output_in_single_characters(text: str) -> None:
    """Feeding character by character releases exactly what one-shot feeding releases."""
    streamed, _ = run(text, list(range(len(text))))
    whole, _ = run(text, [])
    assert streamed == whole


def test_text_without_sentence_ends_is_never_held_beyond_one_sentence_cap() -> None:
    """A stream with no punctuation is decided every ``MAX_SENTENCE_CHARS`` characters, so the
    filter's memory and hold-back stay bounded however long the answer runs."""
    from service.grounding.stream import MAX_SENTENCE_CHARS

    grounding = GroundingFilter(INDEX)
    for _ in range(20_000):
        grounding.feed("7 ")
        assert grounding.held <= MAX_SENTENCE_CHARS + 2
    assert len(grounding.findings) >= 40
