"""Per-request cost from the usage the provider reports and a pricing file loaded at startup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_PRICING_PATH = Path(__file__).with_name("pricing.yaml")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float


@dataclass(frozen=True, slots=True)
class Pricing:
    models: dict[str, ModelPrice]
    default: ModelPrice

    def price_of(self, model: str) -> ModelPrice:
        return self.models.get(model, self.default)

    def cost_usd(self, model: str, *, tokens_in: int, tokens_out: int, cached_in: int = 0) -> float:
        price = self.price_of(model)
        fresh_in = max(tokens_in - cached_in, 0)
        return (
            fresh_in * price.input_per_million
            + cached_in * price.cached_input_per_million
            + tokens_out * price.output_per_million
        ) / 1_000_000


def _price(raw: dict[str, float]) -> ModelPrice:
    return ModelPrice(
        input_per_million=float(raw["input_per_million"]),
        output_per_million=float(raw["output_per_million"]),
        cached_input_per_million=float(
            raw.get("cached_input_per_million", raw["input_per_million"])
        ),
    )


def load_pricing(path: Path = DEFAULT_PRICING_PATH) -> Pricing:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        models = {name: _price(entry) for name, entry in raw["models"].items()}
        default = _price(raw["default"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: malformed pricing file ({error!r})") from error
    return Pricing(models=models, default=default)
