"""The words around a number that make it a claim, in English and Chinese, and the KB's policy
terms: which unit, which currency, which month, what joins a range.

Every entry maps a written form to a language-neutral name, so "business days" and "个工作日"
share a key. Lists are ordered longest first where one form is a prefix of another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class UnitKind(StrEnum):
    AMOUNT = "amount"
    DURATION = "duration"
    PERCENT = "percent"
    TIME = "time"


@dataclass(frozen=True, slots=True)
class Unit:
    written: str
    kind: UnitKind
    name: str


def _units(kind: UnitKind, name: str, *forms: str) -> list[Unit]:
    return [Unit(form, kind, name) for form in forms]


_D, _A = UnitKind.DURATION, UnitKind.AMOUNT
UNITS_AFTER: tuple[Unit, ...] = tuple(
    sorted(
        [
            *_units(_D, "business_day", "business days", "business day", "working days"),
            *_units(_D, "business_day", "working day", "个工作日", "工作日"),
            *_units(_D, "day", "calendar days", "calendar day", "days", "day", "天", "日"),
            *_units(_D, "hour", "hours", "hour", "hrs", "hr", "个小时", "小时", "个钟头"),
            *_units(_D, "minute", "minutes", "minute", "mins", "min", "分钟"),
            *_units(_D, "week", "weeks", "week", "个星期", "星期", "周"),
            *_units(_D, "month", "months", "month", "个月"),
            *_units(_D, "year", "years", "year", "年"),
            *_units(_A, "USD", "us dollars", "dollars", "dollar", "usd", "美元", "美金"),
            *_units(_A, "CNY", "yuan", "rmb", "cny", "人民币", "元", "块"),
            *_units(_A, "EUR", "euros", "euro", "eur", "欧元"),
            *_units(_A, "GBP", "pounds", "gbp", "英镑"),
            *_units(UnitKind.PERCENT, "percent", "%", "percent", "per cent"),
            *_units(UnitKind.TIME, "clock", "a.m.", "p.m.", "am", "pm", "点"),
        ],
        key=lambda unit: -len(unit.written),
    )
)

# Written just before the number: "$4.99", "US$5", "¥50", "RMB 50", "百分之十" (lower case).
CURRENCY_BEFORE: dict[str, str] = dict(
    sorted(
        {
            "us$": "USD",
            "$": "USD",
            "usd": "USD",
            "¥": "CNY",
            "rmb": "CNY",
            "cny": "CNY",
            "€": "EUR",
            "eur": "EUR",
            "£": "GBP",
            "gbp": "GBP",
            "百分之": "percent",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)

RANGE_SEPARATORS = frozenset({"-", "~", "to", "至", "到", "and", "或", "-to"})

MONTHS: dict[str, str] = {}
for _number, _names in enumerate(
    (
        ("january", "jan"),
        ("february", "feb"),
        ("march", "mar"),
        ("april", "apr"),
        ("may",),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep", "sept"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ),
    start=1,
):
    MONTHS.update(dict.fromkeys(_names, str(_number)))

# Policy terms of the demo KB: a promise a customer could hold the shop to. Concept -> forms.
POLICY_TERMS: dict[str, tuple[str, ...]] = {
    "free": ("free of charge", "free", "免费", "包邮", "免运费", "不收任何费用"),
    "full_refund": ("full refund", "全额退款", "全额退回", "款项全额退回"),
    "store_credit": ("store credit", "购物金", "商城余额"),
    "original_payment": ("original payment method", "原支付方式", "原路退回"),
    "prepaid_label": ("prepaid label", "prepaid return label", "预付退货面单"),
    "same_day": ("same day", "same-day", "当天"),
    "no_refund": ("non-refundable", "not refundable", "cannot be refunded", "不可退", "不退"),
    "no_return": ("cannot be returned", "can't be returned", "不支持退货", "不能退货"),
}


@dataclass(frozen=True)
class TermIndex:
    """One alternation of every term form (literal, longest first) and each form's concept."""

    pattern: re.Pattern[str]
    concepts: dict[str, str]
    forms: tuple[str, ...]


def _term_index(terms: dict[str, tuple[str, ...]]) -> TermIndex:
    concepts = {form: concept for concept, forms in terms.items() for form in forms}
    forms = tuple(sorted(concepts, key=len, reverse=True))
    # Latin forms only at word edges; Chinese forms anywhere.
    alternatives = [
        rf"(?<![a-z]){re.escape(form)}(?![a-z])" if form[0].isascii() else re.escape(form)
        for form in forms
    ]
    return TermIndex(re.compile("|".join(alternatives)), concepts, forms)


TERMS = _term_index(POLICY_TERMS)
CURRENCY_AFTER = frozenset(unit.written for unit in UNITS_AFTER if unit.kind is UnitKind.AMOUNT)
