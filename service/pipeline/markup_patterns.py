"""Markup in answers: an allow-list of tags, script and style elements, and URL tricks.

A client may render an answer as HTML or Markdown, so what reaches it must not run script or fetch
anything. In a stream, every tag is dropped (up to its `>`, or the next `<`) unless it is a bare
tag from `ALLOWED_TAGS` (`<b>`, `</li>`, `<br/>`: no attributes, so no `src`, `srcset`, `poster`,
`href`, `data`, `style` or `on…` handler); `<script>` and `<style>` lose their content too.
Markdown images (inline and reference-style) and reference definitions pointing off-site are
dropped, and `javascript:`/`vbscript:`/`data:text/html` URLs lose their scheme, however written
(`jav&#x61;script:`, `java\\tscript:`). `sanitize_markup` is the one-shot form for a renderer:
the same allow-list through `nh3` (Rust ammonia), which parses HTML as a browser would.
"""

from __future__ import annotations

import re

import nh3

from service.pipeline.redaction_rule import RedactionKind, Rule, Span, chain, whole

__all__ = ["ALLOWED_TAGS", "markup_rules", "sanitize_markup"]

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "s", "code", "pre", "p", "br", "hr", "ul", "ol", "li",
     "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th",
     "td", "sub", "sup", "kbd", "small"}
)  # fmt: skip
assert ALLOWED_TAGS <= nh3.ALLOWED_TAGS  # only tags ammonia itself considers safe


def sanitize_markup(html: str) -> str:
    """`html` through ammonia with Beacon's allow-list: bare tags only, no URLs, no comments."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={}, url_schemes=set())


_BARE_END = re.compile(r"[ \t\r\n]{0,8}/?>")


def _tag(m: re.Match[str]) -> Span | None:
    # Kept only if it is a bare allowed tag: "<b>", "</li >", "<br/>". A stream holds any
    # unfinished tag back, so the text after the name has arrived when this runs.
    name = m.group().lstrip("</").lower()
    if name in ALLOWED_TAGS and _BARE_END.match(m.string, m.end()):
        return None
    return whole(m)


_SPACE = r"[ \t\r\n]"
_NAME_END = r"(?![A-Za-z0-9_:\-])"
_TAG_END = r">|(?=<)"  # a tag ends at '>', or where the next tag starts
_CONTROL = r"(?:[\t\r\n]|&(?i:tab|newline);|&#0{0,6}(?:9|10|13);?|&#[xX]0{0,6}(?:9|[aAdD]);?)"


def _entity_letter(ch: str) -> str:
    """One letter of a URL scheme, as itself (any case) or as an HTML character reference."""
    codes = "|".join(str(ord(c)) for c in {ch.lower(), ch.upper()})
    hexes = "|".join(f"{ord(c):x}" for c in {ch.lower(), ch.upper()})
    return f"(?:[{ch.lower()}{ch.upper()}]|&#0{{0,6}}(?:{codes});?|&#[xX]0{{0,6}}(?i:{hexes});?)"


def _scheme(word: str) -> str:
    """`word` + ':', letters possibly encoded and split by tabs or newlines (browsers drop them)."""
    letters = f"{_CONTROL}{{0,4}}".join(_entity_letter(ch) for ch in word[1:])
    colon = r"(?::|&(?i:colon);|&#0{0,6}58;?|&#[xX]0{0,6}3[aA];?)"
    return f"{_CONTROL}{{0,4}}{letters}{_CONTROL}{{0,4}}[ \t]{{0,3}}{colon}"


def _encoded_first(ch: str) -> str:
    """After a leading '&': the rest of a character reference to `ch` (either case)."""
    codes = "|".join(str(ord(c)) for c in sorted({ch.lower(), ch.upper()}))
    hexes = "|".join(f"{ord(c):x}" for c in sorted({ch.lower(), ch.upper()}))
    return f"(?:#0{{0,6}}(?:{codes});?|#[xX]0{{0,6}}(?i:{hexes});?)"


_DATA_TAIL = r"[ \t]{0,3}(?::[ \t]{0,3}[A-Za-z/-]{0,23})?"


# A scheme still arriving: letters, complete character references (digits required: "&#&#&#"
# stops at once), controls, then at most one reference cut short. Kept tight because a stream
# re-reads it from every '&' of its held-back tail on each chunk.
_SCHEME_UNIT = r"(?:[A-Za-z\t\r\n]|&#[xX]?[0-9A-Fa-f]{1,10};?|&[A-Za-z]{1,8};)"
_SCHEME_PENDING = (
    rf"(?:(?<=&)(?:#[xX]?[0-9A-Fa-f]{{0,10}};?|[A-Za-z]{{0,8}};?))?{_SCHEME_UNIT}{{0,60}}+"
    r"(?:&(?:#[xX]?[0-9A-Fa-f]{0,10}|[A-Za-z]{0,8})?)?[ \t]{0,3}\Z"
)


def _url_rules() -> list[Rule]:
    lead = "[Jj&Vv](?<![A-Za-z0-9].)"
    js, vb = _scheme("javascript"), _scheme("vbscript")
    return [
        Rule(
            RedactionKind.MARKUP,
            rf"{lead}(?:(?<=[Jj]){js}|(?<=[Vv]){vb}"
            rf"|(?<=&){_encoded_first('j')}{js}|(?<=&){_encoded_first('v')}{vb})",
            (rf"{lead}{_SCHEME_PENDING}",),
        ),
        Rule(
            RedactionKind.MARKUP,
            r"[Dd](?<![A-Za-z0-9].)(?i:ata)[ \t]{0,3}:[ \t]{0,3}"
            r"(?i:text/html|text/javascript|application/(?:x-)?javascript|image/svg)",
            (rf"[Dd](?<![A-Za-z0-9].){chain('ata', _DATA_TAIL, icase=True)}\Z",),
        ),
    ]


_ABSOLUTE = r"[ \t]{0,4}<?[ \t]{0,4}(?:[A-Za-z][A-Za-z0-9+.\-]{0,20}:|//|\\\\)"  # scheme: or //
_URL_START = r"[ \t<]{0,9}[A-Za-z0-9+.\-:/\\]{0,22}"


def _markdown_rules() -> list[Rule]:
    return [
        Rule(  # an image from another site (or a data: URL) is fetched by the client: dropped.
            # Alt text holds no '[': a stream re-reads a pending image from each '![' it holds.
            RedactionKind.MARKUP,
            rf"!\[[^\[\]\n]{{0,256}}\](?:\({_ABSOLUTE}|\[[^\[\]\n]{{0,64}}\])",
            (rf"!(?:\[[^\[\]\n]{{0,256}}(?:\](?:\({_URL_START}|\[[^\[\]\n]{{0,64}})?)?)?\Z",),
            until=r"\)|(?=\n)|(?<=\])",
        ),
        Rule(  # a reference definition "[ref]: https://…" at the start of a line
            RedactionKind.MARKUP,
            rf"\[(?<![^\n].)[^\]\n]{{1,64}}\]:{_ABSOLUTE}",
            (rf"\[(?<![^\n].)[^\]\n]{{0,64}}(?:\](?::{_URL_START})?)?\Z",),
            until=r"(?=\n)",
        ),
    ]


def markup_rules() -> list[Rule]:
    return [
        Rule(
            RedactionKind.MARKUP,
            rf"<(?i:script|style){_NAME_END}",
            (r"<(?:[A-Za-z/!?][^<>]{0,640}+)?\Z",),  # any unfinished tag: covers the rule below
            until=rf"<(?i:/script|/style){_SPACE}{{0,16}}>",
            until_pending=rf"<(?:{chain('/script', _SPACE + '{1,16}', icase=True)}"
            rf"|{chain('/style', _SPACE + '{1,16}', icase=True)})\Z",
        ),
        Rule(  # every other tag, comment or declaration, unless a bare allowed tag
            RedactionKind.MARKUP,
            r"<(?:/?[A-Za-z][A-Za-z0-9\-:]{0,30}+|[!?])",
            extract=_tag,
            until=_TAG_END,
        ),
        *_url_rules(),
        *_markdown_rules(),
    ]
