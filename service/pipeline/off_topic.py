"""Requests no store FAQ answers, recognised by their form: "write me a poem", "what's 17 times
23", "fix my Python code", "写一首诗", "17乘以23等于几", "帮我调试代码". A customer-service answer
to them is always wrong, however close a FAQ entry's words happen to be ("write" is also how
reviews are written, "code" is also a promo code).

Token sets and substring checks over a size-capped question: linear time, no patterns.
"""

from __future__ import annotations

from rag.language import normalize_text, tokenize

MAX_SCAN_CHARS = 300
_CREATIVE_VERBS_EN = frozenset({"write", "compose", "generate", "tell", "draft", "create"})
_CREATIVE_WORKS_EN = frozenset(
    {"poem", "poems", "haiku", "limerick", "sonnet", "story", "stories", "essay", "song",
     "lyrics", "joke", "jokes", "rap", "novel", "speech", "letter", "script"}
)  # fmt: skip
# Not "x" (jeans sized 32 x 34), "-" (order and phone numbers) or "/" (dates).
_ARITHMETIC_EN = frozenset({"times", "plus", "minus", "multiplied", "divided"})
_ARITHMETIC_SIGNS = frozenset("+*×÷=")
_CREATIVE_ZH = (
    "写一首",
    "写首",
    "作一首",
    "写一篇",
    "写篇",
    "写作文",
    "写歌词",
    "写个故事",
    "写一个故事",
    "编个故事",
    "讲个笑话",
    "讲一个笑话",
    "生日祝福",
)  # fmt: skip  (not "写一段": a review is written that way too)
# Programming help is named by a language or a debugging word, never by "code" or "error" alone
# (a promo code that errors is the store's business).
_PROGRAMMING_EN = frozenset(
    {"python", "javascript", "typescript", "java", "golang", "rust", "php", "sql",
     "html", "css", "regex", "traceback", "stacktrace", "debug", "debugging", "compile",
     "compiler", "segfault", "keyerror", "typeerror", "valueerror", "nullpointerexception"}
)  # fmt: skip
_PROGRAMMING_ZH = (
    "编程",
    "写代码",
    "写个程序",
    "写一个程序",
    "代码报错",
    "程序报错",
    "调试代码",
    "改代码",
    "改bug",
)
_ARITHMETIC_ZH = ("乘以", "除以", "加上", "减去", "等于多少")
_ARITHMETIC_QUESTION_ZH = "等于几"  # "一加一等于几": numerals may be written in characters


def is_off_topic_request(question: str) -> bool:
    """True for a creative-writing, arithmetic or programming request, in English or Chinese."""
    text = normalize_text(question[:MAX_SCAN_CHARS])
    tokens = tokenize(text)
    if _CREATIVE_VERBS_EN.intersection(tokens) and _CREATIVE_WORKS_EN.intersection(tokens):
        return True
    if any(phrase in text for phrase in _CREATIVE_ZH):
        return True
    if _PROGRAMMING_EN.intersection(tokens) or any(phrase in text for phrase in _PROGRAMMING_ZH):
        return True
    return _is_arithmetic(text, tokens)


def _is_arithmetic(text: str, tokens: list[str]) -> bool:
    numbers = [i for i, token in enumerate(tokens) if token.isdigit()]
    for i in numbers:  # "17 times 23"
        if i + 2 < len(tokens) and tokens[i + 1] in _ARITHMETIC_EN and tokens[i + 2].isdigit():
            return True
    if _ARITHMETIC_QUESTION_ZH in text:
        return True
    if len(numbers) >= 2 and any(phrase in text for phrase in _ARITHMETIC_ZH):
        return True
    compact = text.replace(" ", "")  # "17*23", "2+2="
    return any(
        char in _ARITHMETIC_SIGNS and compact[i - 1].isdigit() and compact[i + 1].isdigit()
        for i, char in enumerate(compact[1:-1], start=1)
    )
