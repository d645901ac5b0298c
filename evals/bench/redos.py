"""``redos``: the worst case of every pattern run on request, answer, path or header text.

Two parts. **Patterns**: every compiled pattern held by the modules that scan such text (found by
walking them, so a new pattern is measured without being listed here) is run over adversarial
texts, each a prefix, a unit repeated and a suffix, at sizes doubling from 2,000 to 16,000
characters; a pattern's figure is its worst text: CPU time at the largest size, and the growth
exponent between the sizes (1 is linear time, 2 quadratic). **Requests**: the attacks the
security review reproduced, through the functions a request calls, each at the largest size a
request can carry, in CPU milliseconds.

``python -m evals.bench.redos [--json PATH]`` runs it alone (no processes).
"""

from __future__ import annotations

import gc
import importlib
import math
import re
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from evals.bench.profile import Profile
from evals.bench.standalone import run_standalone

CANARY = "BEACON-CANARY-bench-5e1f"
# Modules whose patterns see customer questions, model answers, paths, headers or log values.
SCANNED_MODULES = (
    "service.pipeline.guard",
    "service.pipeline.guard_phrases",
    "service.pipeline.route",
    "service.pipeline.redaction_patterns",
    "service.tools.order_number",
    "service.observability.middleware",
    "service.providers.faq",
    "service.resilience.token_estimate",
    "rag.language",
)
SIZES = (2_000, 4_000, 8_000, 16_000)
SCREEN_FLOOR_S = 0.0005  # below this at the largest size, a pattern is too cheap to judge
STOP_S = 0.5  # a size that costs this much is the last one measured
# An answer is at most `llm.max_tokens` (512) tokens; 8 characters a token is a generous bound.
ANSWER_CHARS = 4_096


class Searchable:
    """What the walk accepts as a pattern: anything with ``search(text)``."""

    def __init__(self, name: str, search: Callable[[str], object]) -> None:
        self.name = name
        self.search = search


@dataclass(frozen=True, slots=True)
class Family:
    """An adversarial text: ``prefix + unit * k + suffix`` of about ``size`` characters."""

    name: str
    unit: str
    prefix: str = ""
    suffix: str = ""

    def text(self, size: int) -> str:
        repeats = max(1, (size - len(self.prefix) - len(self.suffix)) // len(self.unit))
        return self.prefix + self.unit * repeats + self.suffix


# Runs of the characters and fragments patterns are made of: separators, digits, letters,
# markup, and the start of each kind of secret and contact detail.
RUNS = " a0.-\t\n<@:/=+_密１"
UNITS = (
    "1 ", "1-", "1.", "a.", "a ", "aa@", "a@", "<a ", "<img ", "x=", "ab1", "00", "password ",
    "Bearer ", "&#", "![", "[a", "your ", "tell me ", "ignore the ", "订单 ", "密码是", "ai: ",
    "a:b ", "+1 ", "q:", "javascript", "ＡＢ", "a\u200b", "sk-", "eyJ", "AIza", "xox",
    "-----BEGIN ", "::", "1.1.", "DE89", "123-45-",
)  # fmt: skip
# The review's reproductions first, then the runs and units, then long tokens.
FAMILIES = (
    Family("order_spaces", " ", "order", "x"),
    Family("path_emails", "a@b.co/"),
    Family("fake_dialogue", "q: hi a: ok "),
    *(Family(f"run_{i}", unit) for i, unit in enumerate(RUNS)),
    *(Family(f"unit_{i}", unit) for i, unit in enumerate(UNITS)),
    Family("long_word", "a", "sk-", "!"),
    Family("long_bearer", "a", "Bearer ", "!"),
    Family("long_local", "a", "", "@"),
    Family("long_tag", "a", "<img ", ""),
    Family("long_number", "1", "+", ""),
)


def _literal_words(source: str) -> list[str]:
    """Words a pattern's source spells out: each is the prefix of a family of its own."""
    words = re.findall(r"[a-z]{3,}|[\u4e00-\u9fff]{2,}", source.lower())
    return sorted(set(words), key=words.index)[:8]


def pattern_families(pattern: Searchable) -> list[Family]:
    source = getattr(getattr(pattern.search, "__self__", None), "pattern", "")
    own = [
        fam
        for word in _literal_words(source if isinstance(source, str) else "")
        for fam in (
            Family(f"{word}_spaces", " ", word, "x"),
            Family(f"{word}_repeated", word + " "),
        )
    ]
    return [*FAMILIES, *own]


def _is_pattern(value: object) -> bool:
    if isinstance(value, type | types.ModuleType):
        return False
    return callable(getattr(value, "search", None))


def _walk(value: object, name: str, found: dict[int, Searchable], depth: int) -> None:
    if _is_pattern(value):
        if id(value) not in found:
            found[id(value)] = Searchable(name, value.search)  # type: ignore[attr-defined]
        return
    if depth == 0 or isinstance(value, str | bytes | int | float | type):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{name}[{key!r}]", found, depth - 1)
    elif isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple: field names
        for key in value._fields:
            _walk(getattr(value, key), f"{name}.{key}", found, depth - 1)
    elif isinstance(value, tuple | list | frozenset | set):
        for i, item in enumerate(value):
            _walk(item, f"{name}[{i}]", found, depth - 1)
    elif type(value).__module__.startswith(("service.", "rag.")):
        fields = getattr(value, "__dict__", None) or {
            slot: getattr(value, slot, None) for slot in getattr(type(value), "__slots__", ())
        }
        for key, item in fields.items():
            _walk(item, f"{name}.{key}", found, depth - 1)


def pattern_inventory() -> list[Searchable]:
    """Every pattern the scanned modules hold, and the redactor's compiled rules."""
    from service.pipeline.redaction_scanner import pattern_set

    found: dict[int, Searchable] = {}
    for module_name in SCANNED_MODULES:
        module = importlib.import_module(module_name)
        short = module_name.rsplit(".", 1)[-1]
        for attr, value in vars(module).items():
            if (not attr.startswith("__") and not callable(value)) or _is_pattern(value):
                _walk(value, f"{short}.{attr}", found, depth=4)
    _walk(pattern_set((CANARY,)), "redactor", found, depth=4)
    return list(found.values())


def cpu_seconds(run: Callable[[], object], *, repeats: int) -> float:
    """Best-of-``repeats`` CPU time of ``run`` (the least disturbed by other processes)."""
    best = math.inf
    for _ in range(repeats):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def _exhaust(pattern: Searchable, text: str) -> Callable[[], object]:
    finditer = getattr(getattr(pattern.search, "__self__", None), "finditer", None)
    if callable(finditer):
        return lambda: sum(1 for _ in finditer(text))
    return lambda: pattern.search(text)


@dataclass(frozen=True, slots=True)
class Growth:
    family: str
    seconds: float  # at the largest size measured
    size: int
    exponent: float  # of time against size between the first and last size measured


def measure_growth(
    pattern: Searchable, family: Family, *, repeats: int = 5, sizes: Sequence[int] = SIZES
) -> Growth:
    """CPU time of ``pattern`` over ``family`` at growing sizes, stopping once it is slow."""
    screen = cpu_seconds(_exhaust(pattern, family.text(sizes[0])), repeats=1)
    scale = sizes[-1] / sizes[0]
    if screen * scale < SCREEN_FLOOR_S:
        return Growth(family.name, screen * scale, sizes[-1], 1.0)  # too cheap to tell apart
    if screen > STOP_S:  # the smallest size is already slow: not linear
        return Growth(family.name, screen, sizes[0], math.inf)
    times: list[tuple[int, float]] = []
    for size in sizes:
        times.append((size, cpu_seconds(_exhaust(pattern, family.text(size)), repeats=repeats)))
        if times[-1][1] > STOP_S:
            break
    (first_size, first), (last_size, last) = times[0], times[-1]
    exponent = math.log(max(last, 1e-9) / max(first, 1e-9)) / math.log(last_size / first_size)
    if len(times) == 1:  # the smallest size alone was too slow: at least quadratic
        exponent = math.inf
    return Growth(family.name, last, last_size, round(exponent, 2))


def worst_growth(pattern: Searchable, *, repeats: int = 5) -> Growth:
    """The family with the highest growth exponent (ties: the slowest)."""
    families = pattern_families(pattern)
    growths = [measure_growth(pattern, f, repeats=repeats) for f in families]
    return max(growths, key=lambda g: (g.exponent > 1.5, g.seconds))


# --- Requests: the reproductions, end to end through the functions a request calls ---------


def _requests() -> dict[str, Callable[[], object]]:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExportResult

    from service.observability.logging import redaction_processor
    from service.observability.span_redaction import RedactingSpanExporter
    from service.pipeline.guard import inspect_question
    from service.pipeline.parts import count_parts
    from service.pipeline.redact import StreamRedactor, load_redaction_policy, redact_text
    from service.pipeline.route import find_risk_terms
    from service.tools.order_number import find_order_id

    policy = load_redaction_policy()
    question = 2_000  # the schema's limit
    log = redaction_processor(policy, canaries=(CANARY,))

    class Discard:
        def export(self, _: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    spans = RedactingSpanExporter(Discard(), policy, canaries=(CANARY,))  # type: ignore[arg-type]

    def span_with(agent: str) -> ReadableSpan:
        return ReadableSpan(name="POST /ask", attributes={"user_agent.original": agent})

    def stream(text: str) -> str:
        redactor = StreamRedactor(policy, canaries=(CANARY,))
        return "".join(redactor.feed(text[i : i + 4]) for i in range(0, len(text), 4))

    path = "/" + "a@b.co/" * (60_000 // 7)
    agent = "Mozilla/5.0 " + "a@b.co/" * (56_000 // 7)
    dialogue = Family("d", "q: hi a: ok ").text(question)
    spaces = "order" + " " * (question - 6) + "x"
    cases: dict[str, Callable[[], object]] = {
        "order number: 'order' + spaces + 'x', 2,000 chars": lambda: find_order_id(spaces),
        "guard: fake dialogue, 2,000 chars": lambda: inspect_question(dialogue, policy=policy),
        "guard: 'order' + spaces + 'x'": lambda: inspect_question(spaces, policy=policy),
        "413 log line: 60 KB path of a@b.co/": lambda: log(None, "info", {"path": path}),
        "span: 56 KB User-Agent": lambda: spans.redact_span(span_with(agent)),
        "log value at its 8 KB cap: a@b.co/": lambda: redact_text(path[:8_192], policy),
    }
    for family in FAMILIES:
        text = family.text(question)
        cases[f"guard: {family.name}"] = lambda t=text: inspect_question(t, policy=policy)  # type: ignore[misc]
        cases[f"route: {family.name}"] = lambda t=text: (find_risk_terms(t), count_parts(t))  # type: ignore[misc]
        cases[f"order number: {family.name}"] = lambda t=text: find_order_id(t)  # type: ignore[misc]
        answer = family.text(ANSWER_CHARS)
        cases[f"stream redactor, 4 KB answer: {family.name}"] = lambda t=answer: stream(t)  # type: ignore[misc]
    return cases


def measure_requests(*, repeats: int) -> dict[str, float]:
    """CPU milliseconds of each request-sized attack (best of ``repeats``)."""
    return {
        name: round(cpu_seconds(run, repeats=repeats) * 1000, 2)
        for name, run in _requests().items()
    }


def measure(profile: Profile) -> dict[str, Any]:
    repeats = 5 if profile.name == "full" else 1
    gc.disable()
    try:
        patterns = {p.name: worst_growth(p, repeats=repeats) for p in pattern_inventory()}
        requests = measure_requests(repeats=repeats)
    finally:
        gc.enable()
    worst_pattern = max(patterns.items(), key=lambda kv: kv[1].seconds)
    worst_request = max(requests.items(), key=lambda kv: kv[1])
    return {
        "sizes": list(SIZES),
        "patterns": {
            name: {
                "family": g.family,
                "ms": round(g.seconds * 1000, 3),
                "size": g.size,
                "exponent": g.exponent,
            }
            for name, g in patterns.items()
        },
        "worst_pattern": {
            "name": worst_pattern[0],
            "ms": round(worst_pattern[1].seconds * 1000, 3),
        },
        "requests_ms": requests,
        "worst_request": {"name": worst_request[0], "ms": worst_request[1]},
        "super_linear": sorted(n for n, g in patterns.items() if g.exponent > 1.5),
    }


def run(_: object, profile: Profile) -> dict[str, Any]:
    """The ``beacon bench`` entry (no processes needed)."""
    return measure(profile)


def rows(result: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """Rows for ``beacon bench``'s Markdown table: the worst cases and every slow one."""
    worst = result["worst_pattern"]
    yield ("redos", f"worst pattern ({worst['name']})", f"{worst['ms']} ms", "", "")
    count = len(result["super_linear"])
    yield ("redos", "patterns growing faster than linear", str(count), "0", _yes(count == 0))
    request = result["worst_request"]
    yield (
        "redos",
        f"worst request ({request['name']})",
        f"{request['ms']} ms CPU",
        "≤ 50 ms",
        _yes(request["ms"] <= 50),
    )
    for name, ms in sorted(result["requests_ms"].items(), key=lambda kv: -kv[1])[:8]:
        yield ("redos", name, f"{ms} ms CPU", "≤ 50 ms", _yes(ms <= 50))


def _yes(met: bool) -> str:
    return "yes" if met else "no"


def main(argv: Sequence[str] | None = None) -> int:
    return run_standalone("redos", measure, rows, argv)


if __name__ == "__main__":
    raise SystemExit(main())
