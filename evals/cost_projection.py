"""``beacon cost project``: daily and monthly model cost for a traffic volume and a route mix.

The mix (share of requests per route, the model each route calls, tokens per request) comes from
one of three places:

- an eval report (``beacon eval run`` writes a ``routes`` section: share, ``tokens_in_per_1k``,
  ``tokens_out_per_1k`` and ``models`` of each route), given with ``--from-eval``;
- a small JSON file of this documented shape, also given with ``--from-eval``::

      {"route_mix": {"faq": 0.5, "easy": 0.3, "hard": 0.1, "risky": 0.05, "out_of_scope": 0.05},
       "tokens_per_route": {"easy": {"input": 300, "output": 80}, "hard": {...}},
       "models": {"easy": "beacon-easy", "hard": "beacon-hard"},
       "cache_hit_rate": 0.1}

- by default, the regression suite routed in-process (``evals.route_mix``).

Prices come from ``service/observability/pricing.yaml``. Two savings are shown: FAQ-direct (what
the ``faq`` route's requests would cost if the cheap model answered them instead) and the answer
cache (a hit costs no model call).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from service.observability.cost import Pricing

DAYS_PER_MONTH = 30
FREE_MODELS = ("faq", "none", "")
# Routes that call no model whatever the configuration.
FREE_ROUTES = ("faq", "out_of_scope", "none", "error")


@dataclass(frozen=True, slots=True)
class RouteProfile:
    """What one request of a route costs in tokens, and on which model."""

    share: float
    model: str
    tokens_in: float
    tokens_out: float


@dataclass(frozen=True, slots=True)
class TrafficProfile:
    routes: dict[str, RouteProfile]
    # The cheap model and its tokens: what a `faq` request would cost without FAQ-direct.
    easy: RouteProfile
    cache_hit_rate: float = 0.0
    source: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RouteCost:
    route: str
    share: float
    model: str
    tokens_in: float
    tokens_out: float
    usd_per_request: float
    usd_per_day: float


@dataclass(frozen=True, slots=True)
class Projection:
    requests_per_day: int
    routes: list[RouteCost]
    before_cache_daily_usd: float
    cache_saving_daily_usd: float
    faq_direct_saving_daily_usd: float
    cache_hit_rate: float
    source: str
    notes: list[str]

    @property
    def daily_usd(self) -> float:
        return self.before_cache_daily_usd - self.cache_saving_daily_usd

    @property
    def monthly_usd(self) -> float:
        return self.daily_usd * DAYS_PER_MONTH

    def to_json(self) -> dict[str, Any]:
        return {
            "requests_per_day": self.requests_per_day,
            "source": self.source,
            "cache_hit_rate": self.cache_hit_rate,
            "routes": [asdict(route) for route in self.routes],
            "daily_usd": round(self.daily_usd, 4),
            "monthly_usd": round(self.monthly_usd, 2),
            "saving": {
                "faq_direct_daily_usd": round(self.faq_direct_saving_daily_usd, 4),
                "faq_direct_monthly_usd": round(
                    self.faq_direct_saving_daily_usd * DAYS_PER_MONTH, 2
                ),
                "cache_daily_usd": round(self.cache_saving_daily_usd, 4),
                "cache_monthly_usd": round(self.cache_saving_daily_usd * DAYS_PER_MONTH, 2),
            },
            "notes": self.notes,
        }


def request_cost(profile: RouteProfile, pricing: Pricing) -> float:
    if profile.model in FREE_MODELS:
        return 0.0
    return pricing.cost_usd(
        profile.model, tokens_in=round(profile.tokens_in), tokens_out=round(profile.tokens_out)
    )


def project(traffic: TrafficProfile, *, requests_per_day: int, pricing: Pricing) -> Projection:
    """Cost per route at this volume; the cache saves its hit rate of the model spend."""
    routes = [
        RouteCost(
            route=name,
            share=profile.share,
            model=profile.model,
            tokens_in=profile.tokens_in,
            tokens_out=profile.tokens_out,
            usd_per_request=request_cost(profile, pricing),
            usd_per_day=request_cost(profile, pricing) * profile.share * requests_per_day,
        )
        for name, profile in sorted(traffic.routes.items(), key=lambda item: -item[1].share)
    ]
    before_cache = sum(route.usd_per_day for route in routes)
    faq = traffic.routes.get("faq")
    faq_share = faq.share if faq is not None else 0.0
    return Projection(
        requests_per_day=requests_per_day,
        routes=routes,
        before_cache_daily_usd=before_cache,
        cache_saving_daily_usd=before_cache * traffic.cache_hit_rate,
        faq_direct_saving_daily_usd=request_cost(traffic.easy, pricing)
        * faq_share
        * requests_per_day,
        cache_hit_rate=traffic.cache_hit_rate,
        source=traffic.source,
        notes=traffic.notes,
    )


def load_traffic(path: Path) -> TrafficProfile:
    """An eval report (with ``routes``) or the documented ``route_mix`` JSON."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, dict) and "routes" in raw:
        return traffic_from_eval_report(raw, source=f"eval report {path}")
    if isinstance(raw, dict) and "route_mix" in raw:
        return traffic_from_route_mix(raw, source=f"route mix {path}")
    raise ValueError(f"{path}: neither an eval report (routes) nor a route mix (route_mix)")


def traffic_from_eval_report(report: Mapping[str, Any], *, source: str) -> TrafficProfile:
    routes: dict[str, RouteProfile] = {}
    for name, row in report["routes"].items():
        routes[name] = RouteProfile(
            share=float(row["share"]),
            model=_report_model(name, [str(model) for model in row.get("models", [])]),
            tokens_in=float(row.get("tokens_in_per_1k", 0)) / 1000,
            tokens_out=float(row.get("tokens_out_per_1k", 0)) / 1000,
        )
    notes = []
    easy = routes.get("easy")
    if easy is None or easy.model in FREE_MODELS:
        easy = DEFAULT_EASY
        notes.append("no model-answered easy route in the report: FAQ-direct saving uses defaults")
    cache = report.get("metrics", {}).get("cache_hit_rate", 0.0)
    return TrafficProfile(
        routes=routes, easy=easy, cache_hit_rate=float(cache or 0.0), source=source, notes=notes
    )


def _report_model(route: str, listed: list[str]) -> str:
    """The model a report's route was answered by; a free route stays free."""
    free = "faq" if "faq" in listed else "none"
    if route in FREE_ROUTES:
        return free
    priced = [model for model in listed if model not in FREE_MODELS]
    return priced[0] if priced else free


def traffic_from_route_mix(raw: Mapping[str, Any], *, source: str) -> TrafficProfile:
    models = {"easy": "beacon-easy", "hard": "beacon-hard", **raw.get("models", {})}
    models.setdefault("risky", models["hard"])
    tokens = raw.get("tokens_per_route", {})
    routes = {
        name: _mix_route(name, float(share), models, tokens)
        for name, share in raw["route_mix"].items()
    }
    easy = _mix_route("easy", 0.0, models, tokens)
    return TrafficProfile(
        routes=routes,
        easy=easy,
        cache_hit_rate=float(raw.get("cache_hit_rate", 0.0)),
        source=source,
    )


def _mix_route(
    name: str, share: float, models: Mapping[str, str], tokens: Mapping[str, Any]
) -> RouteProfile:
    if name in FREE_ROUTES:
        return RouteProfile(share=share, model="none", tokens_in=0, tokens_out=0)
    default = DEFAULT_TOKENS.get(name, DEFAULT_TOKENS["easy"])
    counts = tokens.get(name, tokens.get("hard" if name == "risky" else name, default))
    return RouteProfile(
        share=share,
        model=models.get(name, models["easy"]),
        tokens_in=float(counts["input"]),
        tokens_out=float(counts["output"]),
    )


# Tokens per request when nothing measured them: the shipped prompts with two or three cited
# FAQ entries (~300-500 input tokens) and a short answer (~90-200 words).
DEFAULT_TOKENS: dict[str, dict[str, int]] = {
    "easy": {"input": 350, "output": 120},
    "hard": {"input": 550, "output": 260},
    "risky": {"input": 400, "output": 200},
}
DEFAULT_EASY = RouteProfile(share=0.0, model="beacon-easy", tokens_in=350, tokens_out=120)


def with_cache_hit_rate(traffic: TrafficProfile, rate: float | None) -> TrafficProfile:
    return traffic if rate is None else replace(traffic, cache_hit_rate=rate)


def format_projection(p: Projection) -> str:
    lines = [
        f"Cost projection for {p.requests_per_day:,} requests/day ({p.source})",
        "",
        f"{'route':<14}{'share':>8}{'req/day':>11}  {'model':<16}{'in':>7}{'out':>7}"
        f"{'USD/req':>12}{'USD/day':>11}",
    ]
    for r in p.routes:
        lines.append(
            f"{r.route:<14}{r.share:>8.1%}{r.share * p.requests_per_day:>11,.0f}  "
            f"{r.model:<16}{r.tokens_in:>7.0f}{r.tokens_out:>7.0f}"
            f"{r.usd_per_request:>12.6f}{r.usd_per_day:>11.2f}"
        )
    lines += [
        "",
        f"before cache       {p.before_cache_daily_usd:>12,.2f} USD/day",
        f"cache saving       {p.cache_saving_daily_usd:>12,.2f} USD/day "
        f"(at a {p.cache_hit_rate:.0%} hit rate; --cache-hit-rate)",
        f"daily              {p.daily_usd:>12,.2f} USD",
        f"monthly ({DAYS_PER_MONTH} days)  {p.monthly_usd:>12,.2f} USD",
        f"FAQ-direct saving  {p.faq_direct_saving_daily_usd:>12,.2f} USD/day, "
        f"{p.faq_direct_saving_daily_usd * DAYS_PER_MONTH:,.2f} USD/month "
        "(faq-route requests not sent to the cheap model)",
    ]
    lines += [f"note: {note}" for note in p.notes]
    return "\n".join(lines) + "\n"
