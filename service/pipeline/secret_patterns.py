"""Secrets in text: API keys and tokens by their formats, and values assigned to secret names.

Formats: OpenAI-style `sk-`, Stripe `sk_live_`/`rk_test_`, AWS access key ids and bare secret keys,
GitHub tokens, Google `AIza` keys, Slack `xox?-` tokens, JWTs, PEM private keys (the whole block),
`Bearer` values. Assignments: `api_key=…`, `password: …`, `DB_PASSWORD=…`,
`AWS_SECRET_ACCESS_KEY=…`, `密码：…`, and prose: "my password is …", "我的密码是…".
"""

from __future__ import annotations

import re

from service.pipeline.redaction_rule import (
    RedactionKind,
    Rule,
    Span,
    chain,
    char,
    trie,
    value_group,
    whole,
)

__all__ = ["secret_rules"]

_TOKEN = r"A-Za-z0-9\-._~+/"  # a bearer token
_VALUE = r"A-Za-z0-9!#$%&*+\-./=?@^_|~"  # an assigned secret value
_KEYS = (
    "api_key", "api-key", "apikey", "api_secret", "access_token", "access-token", "auth_token",
    "secret_key", "secret-key", "secret", "client_secret", "refresh_token", "token",
    "password", "passwd", "pwd", "passcode", "db_password", "aws_secret_access_key",
    "private_key", "access_key", "密码", "密钥", "口令",
)  # fmt: skip
# What joins a key to its value: `=`, `:`, "is" in prose, or 是/为 in Chinese.
_JOIN = (
    r"(?:[\"']?[ \t]{0,3}[=:：][ \t]{0,3}[\"']?"
    r"|[ \t]{1,3}is[ \t]{1,3}(?::[ \t]{0,3})?[\"']?|(?:是|为)[：:]?[ \t]{0,3})"
)
_JOIN_PENDING = (
    rf"(?:[\"']?[ \t]{{0,3}}(?:[=:：][ \t]{{0,3}}[\"']?[{_VALUE}]{{0,210}})?"
    rf"|[ \t]{{1,3}}(?:i(?:s(?:[ \t]{{1,3}}(?::[ \t]{{0,3}})?[\"']?[{_VALUE}]{{0,210}})?)?)?"
    rf"|(?:是|为)[：:]?[ \t]{{0,3}}[{_VALUE}]{{0,210}})"
)
_TRAILING = ".,;!?"  # sentence punctuation after a value in prose is not part of it


def _assignment(m: re.Match[str]) -> Span | None:
    # "password: Settings" or "the password is required." is prose; a secret has a digit or a
    # symbol inside it, or is long.
    value = m.group("value")
    trimmed = value.rstrip(_TRAILING)
    if not trimmed or not (len(trimmed) >= 16 or not trimmed.isalpha()):
        return None
    end = m.start("value") + len(trimmed)
    return Span(end, m.start("value"), end)


def _assignment_rules() -> list[Rule]:
    """`password = hunter22`, `api_key: ...`, `密码是...`: one rule per first character."""
    by_first: dict[str, list[str]] = {}
    for key in _KEYS:
        by_first.setdefault(key[0], []).append(key[1:])
    rules = []
    for first, rests in by_first.items():
        head = f"{char(first, True)}(?<![A-Za-z0-9_].)"
        key = "(?i:" + "|".join(re.escape(r) for r in sorted(rests, key=len, reverse=True)) + ")"
        rules.append(
            Rule(
                RedactionKind.SECRET,
                rf"{head}{key}{_JOIN}(?P<value>[{_VALUE}]{{6,200}})(?![{_VALUE}])",
                (rf"{head}{trie(rests, icase=True)}\Z", rf"{head}{key}{_JOIN_PENDING}\Z"),
                _assignment,
            )
        )
    return rules


_ENV_NAMES = r"(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY|CREDENTIALS?|PASSPHRASE)"


def _environment_rule() -> Rule:
    """`AWS_SECRET_ACCESS_KEY=...`, `DB_PASSWORD=...`: upper-case names ending in a secret word."""
    head = "[A-Z](?<![A-Za-z0-9_].)"
    return Rule(
        RedactionKind.SECRET,
        rf"{head}[A-Z0-9_]{{0,40}}_{_ENV_NAMES}[\"']?[ \t]{{0,3}}[=:][ \t]{{0,3}}[\"']?"
        rf"(?P<value>[{_VALUE}]{{6,200}})(?![{_VALUE}])",
        (
            rf"{head}[A-Z0-9_]{{0,60}}+(?:[\"']?[ \t]{{0,3}}(?:[=:][ \t]{{0,3}}[\"']?"
            rf"[{_VALUE}]{{0,210}})?)?\Z",
        ),
        _assignment,
    )


def _aws_secret(m: re.Match[str]) -> Span | None:
    # 40 characters of base64: a secret access key has upper and lower case letters and digits.
    value = m.group()
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return whole(m) if mixed and any(c.isdigit() for c in value) else None


_BEARER_TAIL = rf"[ \t]{{1,4}}[{_TOKEN}=]{{0,4100}}"


def _format_rules() -> list[Rule]:
    word = "A-Za-z0-9_\\-"
    return [
        Rule(
            RedactionKind.SECRET,
            rf"s(?<![{word}].)k-[{word}]{{20,1024}}+",
            (rf"s(?<![{word}].)(?:k(?:-[{word}]{{0,1024}}+)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"[sr](?<![A-Za-z0-9_].)k_(?:live|test)_[A-Za-z0-9]{16,250}(?![A-Za-z0-9])",
            (r"[sr](?<![A-Za-z0-9_].)(?:k(?:_[a-z]{0,4}(?:_[A-Za-z0-9]{0,250})?)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"A(?<![A-Za-z0-9].)(?:[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])"
            rf"|Iza[0-9A-Za-z_\-]{{35}}(?![{word}]))",
            (
                r"A(?<![A-Za-z0-9].)(?:[KS](?:I(?:A[0-9A-Z]{0,16})?)?)?\Z",
                rf"A(?<![A-Za-z0-9].){chain('Iza', '[0-9A-Za-z_-]{1,35}')}\Z",
            ),
        ),
        Rule(
            RedactionKind.SECRET,
            r"g(?<![A-Za-z0-9_].)(?:h[pousr]_[A-Za-z0-9]{30,255}|ithub_pat_[A-Za-z0-9_]{30,255})"
            r"(?![A-Za-z0-9_])",
            (
                r"g(?<![A-Za-z0-9_].)(?:h(?:[pousr](?:_[A-Za-z0-9]{0,255})?)?)?\Z",
                rf"g(?<![A-Za-z0-9_].){chain('ithub_pat_', '[A-Za-z0-9_]{1,255}')}\Z",
            ),
        ),
        Rule(
            RedactionKind.SECRET,
            r"x(?<![A-Za-z0-9_].)ox[abprse]-[A-Za-z0-9\-]{10,250}(?![A-Za-z0-9\-])",
            (rf"x(?<![A-Za-z0-9_].){chain('ox', '[abprse](?:-[A-Za-z0-9-]{0,250})?')}\Z",),
        ),
        Rule(  # a JWT: base64url header and payload (both JSON, so "eyJ"), then a signature
            RedactionKind.SECRET,
            rf"e(?<![{word}].)yJ[{word}]{{5,2048}}\.[{word}]{{5,4096}}\.[{word}]{{0,2048}}+",
            (rf"e(?<![{word}].)(?:y(?:J[{word}.]{{0,8200}}+)?)?\Z",),
        ),
        Rule(
            RedactionKind.SECRET,
            r"[A-Za-z0-9/+](?<![A-Za-z0-9/+=].)[A-Za-z0-9/+]{39}(?![A-Za-z0-9/+=])",
            (r"[A-Za-z0-9/+](?<![A-Za-z0-9/+=].)[A-Za-z0-9/+]{0,39}+\Z",),
            _aws_secret,
        ),
        Rule(  # a PEM private key block is removed whole, up to its END line
            RedactionKind.SECRET,
            r"-(?<!-.)----BEGIN (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY-----",
            (rf"-(?<!-.){chain('----BEGIN ', '[A-Z0-9 ]{0,90}-{0,5}')}\Z",),
            until=r"-----END (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY-----",
            until_pending=rf"-{chain('----END ', '[A-Z0-9 ]{0,90}-{0,5}')}\Z",
        ),
        Rule(
            RedactionKind.SECRET,
            rf"[Bb](?<![A-Za-z0-9_].)(?i:earer)[ \t]{{1,4}}"
            rf"(?P<value>[{_TOKEN}]{{16,4096}}+={{0,3}})",
            (rf"[Bb](?<![A-Za-z0-9_].){chain('earer', _BEARER_TAIL, icase=True)}\Z",),
            value_group,
        ),
    ]


def secret_rules() -> list[Rule]:
    return [*_format_rules(), *_assignment_rules(), _environment_rule()]
