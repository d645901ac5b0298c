"""Contact and account numbers: emails, phones, bank cards, CN resident IDs, IBANs, US SSNs, IPs.

Numbers are matched with their usual separators (spaces, dots, dashes, slashes, line breaks;
odd spaces and full-width digits are folded before matching) and then validated: cards by Luhn,
IDs by their GB 11643 check character, IBANs by ISO 7064 mod 97, phones written without `+` by
Google's `phonenumbers` metadata (a national number must be a valid number of a likely region).
"""

from __future__ import annotations

import functools
import ipaddress
import re

import phonenumbers

from service.pipeline.redaction_rule import RedactionKind, Rule, Span, whole

__all__ = ["cn_id_valid", "contact_rules", "iban_valid", "luhn_valid"]


def luhn_valid(digits: str) -> bool:
    """Luhn checksum of a string of decimal digits (any script)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_id_valid(number: str) -> bool:
    """GB 11643 check character of an 18-character resident ID."""
    total = sum(int(ch) * w for ch, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def iban_valid(iban: str) -> bool:
    """ISO 13616 IBAN: 15-34 characters, country letters, and mod 97 of the rearranged digits."""
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


_GROUP = re.compile(r"[0-9A-Z]+")
_CARD_INDUSTRIES = frozenset({2, 3, 4, 5, 6, 9})  # ISO 7812 major industry ids of bank cards


def _card(m: re.Match[str]) -> Span | None:
    # The longest run of whole digit groups with 13-19 digits, a bank card's first digit and a
    # valid Luhn sum: "<card> 2023" is still a card; a non-Luhn run, or an order number starting
    # with 1, 7 or 8 (Luhn-valid ones are common), is not.
    groups = list(_GROUP.finditer(m.group()))
    if int(m.group()[0]) not in _CARD_INDUSTRIES:
        return None
    for n in range(len(groups), 0, -1):
        digits = "".join(g.group() for g in groups[:n])
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            end = m.start() + groups[n - 1].end()
            return Span(end, m.start(), end)
    return None


def _cn_id(m: re.Match[str]) -> Span | None:
    number = re.sub(r"[ \-]", "", m.group())
    return whole(m) if cn_id_valid(number) else None


def _iban(m: re.Match[str]) -> Span | None:
    groups = list(_GROUP.finditer(m.group()))
    for n in range(len(groups), 0, -1):
        if iban_valid("".join(g.group() for g in groups[:n])):
            end = m.start() + groups[n - 1].end()
            return Span(end, m.start(), end)
    return None


def _ssn(m: re.Match[str]) -> Span | None:
    area, group, serial = re.findall(r"\d+", m.group())
    valid = area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"
    return whole(m) if valid else None


def _ipv4(m: re.Match[str]) -> Span | None:
    return whole(m) if all(int(octet) <= 255 for octet in m.group().split(".")) else None


def _ipv6(m: re.Match[str]) -> Span | None:
    text = m.group().rstrip(":.")
    if sum(c not in ":." for c in text) < 6:
        return None  # "::1", "a::b", times: too short to identify anyone
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return None
    return Span(m.start() + len(text), m.start(), m.start() + len(text))


_TRUNK_REGIONS = ("GB", "DE", "FR", "IT", "ES", "NL", "CN")  # national numbers starting with 0


@functools.lru_cache(maxsize=4096)
def _valid_phone(text: str) -> bool:
    """A valid number: international ("+", "00") in any region, national in a likely one."""
    groups = [len(g) for g in re.findall(r"\d+", text)]
    digits = re.sub(r"\D", "", text)
    if not 9 <= len(digits) <= 15:
        return False
    candidates: list[tuple[str, str | None]]
    if text.startswith("00"):
        candidates = [("+" + digits[2:], None)]
    elif digits.startswith("0"):
        candidates = [(text, region) for region in _TRUNK_REGIONS]
    elif groups in ([3, 3, 4], [1, 3, 3, 4]):  # North American: (415) 555-2671, 415.555.2671
        candidates = [(text, "US")]
    else:
        return False
    for number, region in candidates:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _phone(m: re.Match[str]) -> Span | None:
    # The longest run of whole groups that is a valid number ("call 415 555 2671 today 2023").
    groups = list(re.finditer(r"\d+", m.group()))
    for n in range(len(groups), 0, -1):
        end = m.start() + groups[n - 1].end()
        if _valid_phone(m.string[m.start() : end]):
            return Span(end, m.start(), end)
    return None


_LOCAL = r"A-Za-z0-9._%+\-\u00c0-\u024f\u0400-\u04ff"  # an email's local part (no CJK)
_LABEL = r"A-Za-z0-9\-\u00c0-\u024f\u0400-\u04ff\u4e00-\u9fff"  # a domain label, IDN too
_TLD = r"(?:[A-Za-z\u00c0-\u024f\u0400-\u04ff]{2,24}|xn--[A-Za-z0-9\-]{2,59}|[\u4e00-\u9fff]{1,4})"
# Every numeric rule reads at most 64 characters of digits and separators: hold such a tail.
_NUMBER_PENDING = (
    r"\d(?<!\d.)[\d .\-()/\nXx]{0,64}+\Z",
    r"\+(?<![\d+].)[\d .\-()/]{0,64}+\Z",
    r"[(\d](?<![\w+(.\-/].)[\d .\-()/\n]{0,64}+\Z",
)
_SEP = r"(?:[ \-./]{1,2}|\n)"  # between digit groups: "4111.1111", "4111  1111", "4111/1111"


def _email_rule() -> Rule:
    return Rule(
        RedactionKind.EMAIL,
        rf"[{_LOCAL}](?<![{_LOCAL}].)[{_LOCAL}]{{0,127}}+@(?:[{_LABEL}]{{1,63}}\.){{1,16}}"
        rf"{_TLD}(?![{_LABEL}]|\.[{_LABEL}])",
        (rf"[{_LOCAL}](?<![{_LOCAL}].)[{_LOCAL}]{{0,127}}+(?:@[{_LABEL}.]{{0,1100}}+)?\Z",),
    )


def _phone_rules() -> list[Rule]:
    return [
        Rule(  # Chinese mobile, any grouping (3-4-4, 3-3-5, dotted), after 86 / 0086 or not
            RedactionKind.PHONE,
            r"[018](?<![\d+].)(?:(?<=0)086[ \-]?1|(?<=8)6[ \-]?1|(?<=1))[3-9](?:[ .\-]?\d){9}"
            r"(?!\d)",
        ),
        Rule(  # E.164: + and 8-15 digits, with spaces, dots, dashes or parentheses between
            RedactionKind.PHONE,
            r"\+(?<![\d+].)\(?\d(?:\)?[ .\-]?\(?\d){7,14}(?!\)?[ .\-]?\(?\d)",
        ),
        Rule(  # national or 00-international numbers in groups, validated by phonenumbers
            RedactionKind.PHONE,
            r"[(\d](?<![\w+(.\-/].)(?:(?<=\()\d{2,5}\)|(?<=\d)\d{1,4}\)?)"
            r"(?:[ .\-/]{1,2}\(?\d{2,5}\)?){1,5}(?!\d)",
            extract=_phone,
        ),
    ]


def _number_rules() -> list[Rule]:
    return [
        Rule(
            RedactionKind.CN_ID,
            r"\d(?<!\d.)\d{5}(?:[ \-]?\d){11}[ \-]?[\dXx](?![\dXx])",
            _NUMBER_PENDING,
            _cn_id,
        ),
        Rule(
            RedactionKind.SSN,
            r"\d(?<!\d.)\d{2}(?:-\d{2}-| \d{2} )\d{4}(?!\d)",
            extract=_ssn,
        ),
        Rule(
            RedactionKind.IP_ADDRESS,
            r"\d(?<![\w.].)\d{0,2}(?:\.\d{1,3}){3}(?!\d|\.\d)",
            extract=_ipv4,
        ),
        Rule(
            RedactionKind.IP_ADDRESS,
            r"[0-9A-Fa-f:](?<![0-9A-Za-z:.].)[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,40}",
            (r"[0-9A-Fa-f:](?<![0-9A-Za-z:.].)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f:.]{0,44}+)?\Z",),
            _ipv6,
        ),
        Rule(
            RedactionKind.IBAN,
            r"[A-Z](?<![A-Za-z0-9].)[A-Z]\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?"
            r"(?![A-Za-z0-9])",
            (r"[A-Z](?<![A-Za-z0-9].)(?:[A-Z](?:\d(?:\d[ \-A-Z0-9]{0,40}+)?)?)?\Z",),
            _iban,
        ),
        Rule(RedactionKind.CARD, r"\d(?<!\d.)\d{12,18}(?!\d)", extract=_card),
        Rule(
            RedactionKind.CARD, rf"\d(?<!\d.)\d{{3}}(?:{_SEP}\d{{3,6}}){{2,5}}(?!\d)", extract=_card
        ),
        Rule(RedactionKind.CARD, r"\d(?<!\d.)(?:[ \-]\d){12,18}(?![ \-]\d)", extract=_card),
    ]


def contact_rules() -> list[Rule]:
    # Ties go to the earlier rule: the specific shapes (ID, SSN, IP) before phones, whose
    # validation accepts many digit groupings, and cards last (Luhn-valid runs are common).
    numbers = _number_rules()
    return [_email_rule(), *numbers[:4], *_phone_rules(), *numbers[4:]]
