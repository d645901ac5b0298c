"""No pattern or scan of customer, model, path or header text grows faster than linearly.

Every pattern the scanning modules hold is found by walking them (`pattern_inventory`), so a new
pattern is tested without being listed. Each is run over adversarial texts at 2,000 to 16,000
characters; the test fails when CPU time grows with an exponent above 1.5 (a ratio of 22.6 for
8x the text, where linear time gives 8 and quadratic 64). Times are the best of several runs, and
texts too cheap to time (under 0.5 ms at the largest size) are not judged, so a loaded machine
slows a run down but does not fail it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from evals.bench.redos import (
    CANARY,
    Family,
    Searchable,
    cpu_seconds,
    measure_growth,
    pattern_families,
    pattern_inventory,
)
from service.observability.logging import redaction_processor
from service.pipeline.guard import inspect_question
from service.pipeline.redact import TRUNCATED, load_redaction_policy, redact_text, redact_value
from service.pipeline.redaction_scanner import pattern_set
from service.tools.order_number import find_order_id

MAX_EXPONENT = 1.5
PATTERNS = pattern_inventory()
POLICY = load_redaction_policy()


def test_inventory_finds_the_patterns_of_every_scanning_module() -> None:
    """The walk reaches the guard, router, order-number, language and redactor patterns."""
    names = {p.name.split(".")[0].split("[")[0] for p in PATTERNS}
    assert {"guard", "route", "order_number", "language", "redactor"} <= names
    assert sum(p.name.startswith("redactor.") for p in PATTERNS) >= 30


@pytest.mark.parametrize("pattern", PATTERNS, ids=[p.name for p in PATTERNS])
def test_pattern_time_grows_linearly_on_adversarial_text(pattern: Searchable) -> None:
    """On every adversarial family, the pattern's CPU time grows at most linearly with size."""
    slow = []
    for family in pattern_families(pattern):
        growth = measure_growth(pattern, family, repeats=5, sizes=(2_000, 16_000))
        if growth.exponent > MAX_EXPONENT:
            slow.append(growth)
    assert slow == []


def test_redactor_rule_patterns_have_a_bounded_width() -> None:
    """Rules run by the backtracking engine read at most a bounded window from each start."""
    for rule in pattern_set((CANARY,))._rules:  # the compiled rules themselves
        for pattern in (rule.full, rule.pending, rule.until_pending):
            if pattern is not None:
                width = re._parser.parse(pattern.pattern).getwidth()[1]  # type: ignore[attr-defined]
                assert width < 16_384, pattern.pattern


def _growth(run: Callable[[int], object], small: int, large: int) -> float:
    """Ratio of CPU time at `large` to `small`, best of five each."""
    fast = cpu_seconds(lambda: run(small), repeats=5)
    slow = cpu_seconds(lambda: run(large), repeats=5)
    return slow / max(fast, 1e-6)


def test_order_word_followed_by_spaces_is_linear() -> None:
    """'order' + spaces + 'x' (cubic before: 2.4 s at 1,000 spaces) is found in linear time."""
    ratio = _growth(lambda n: find_order_id("order" + " " * n + "x"), 500, 4_000)
    assert ratio < 8 * 3
    assert find_order_id("order" + " " * 1_990 + "x") is None


def test_full_width_order_number_is_found() -> None:
    """An order number typed with full-width digits is normalised before matching."""
    assert find_order_id("订单号：１０００２３") == "BC-100023"


def test_redaction_with_a_canary_is_linear_on_many_emails() -> None:
    """A path of a@b.co/ repeated (quadratic before: the canary was searched to the end)."""
    ratio = _growth(lambda n: redact_text("a@b.co/" * n, POLICY, canaries=[CANARY]), 300, 2_400)
    assert ratio < 8 * 3


def test_fake_dialogue_scan_is_linear() -> None:
    """The guard's fake-dialogue check (150 ms at 2,000 characters before) is linear."""
    text = Family("d", "q: hi a: ok ")
    ratio = _growth(lambda n: inspect_question(text.text(n), policy=POLICY), 250, 2_000)
    assert ratio < 8 * 3


def test_fake_dialogue_is_still_recognised() -> None:
    """A pasted question-answer-question exchange is still a fake dialogue signal."""
    verdict = inspect_question("q: hi there a: hello q: what is my order status?", policy=POLICY)
    assert "fake_dialogue" in verdict.signals
    far = "q: hi " + "x" * 700 + " a: hello q: now?"
    assert "fake_dialogue" not in inspect_question(far, policy=POLICY).signals


def test_long_log_values_are_cut_before_redaction() -> None:
    """A 60 KB path costs no more than an 8 KB one: values are cut before they are scanned."""
    log = redaction_processor(POLICY, canaries=(CANARY,))
    ratio = _growth(lambda n: log(None, "info", {"path": "/" + "a@b.co/" * n}), 1_200, 8_600)
    assert ratio < 3
    line = log(None, "info", {"path": "/" + "a@b.co/" * 8_600})
    assert line["path"].endswith(TRUNCATED) and "@" not in line["path"]


def test_a_value_cut_mid_secret_loses_the_whole_secret() -> None:
    """Cutting a value never leaves the start of a secret that the cut made unrecognisable."""
    secret = "sk-" + "A1b2C3d4" * 4
    value = "x" * 90 + " " + secret
    for cut in range(91, len(value) + 1):
        out = str(redact_value(value, POLICY, max_chars=cut))
        assert "sk-A1b2" not in out, cut


def test_long_values_are_not_cached_by_the_log_processor() -> None:
    """The log processor caches only short values, so attacker paths cannot fill memory."""
    log = redaction_processor(POLICY, canaries=(CANARY,))
    for i in range(50):
        log(None, "info", {"path": f"/{i}/" + "a" * 5_000})
    (cache,) = {id(c): c for c in _lru_caches(log)}.values()
    assert cache.cache_info().currsize == 0
    log(None, "info", {"route": "faq"})
    assert cache.cache_info().currsize == 1


def _lru_caches(function: object, depth: int = 3) -> list[Any]:
    """The functools caches a closure holds (the processor keeps its cache private)."""
    if hasattr(function, "cache_info"):
        return [function]
    cells = getattr(function, "__closure__", None) or ()
    if depth == 0:
        return []
    return [c for cell in cells for c in _lru_caches(cell.cell_contents, depth - 1)]


def test_family_text_has_the_requested_size() -> None:
    """Adversarial texts are about the requested size, so sizes compare like for like."""
    family = Family("x", "ab", "pre", "!")
    assert abs(len(family.text(1_000)) - 1_000) <= 2
    assert re.fullmatch(r"pre(?:ab)+!", family.text(100))
