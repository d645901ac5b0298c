"""Typed settings for Beacon, read from the environment (prefix ``BEACON_``, nesting ``__``).

Tests build ``Settings(_env_file=None, ...)`` directly; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import rag

DEFAULT_KB_DIR = Path(rag.__file__).parent / "kb"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LLMSettings(_Section):
    """An OpenAI-compatible endpoint; the easy and hard tiers are two model names on it."""

    base_url: str = "http://127.0.0.1:8100/v1"
    api_key: SecretStr = SecretStr("unset")
    easy_model: str = "beacon-easy"
    hard_model: str = "beacon-hard"
    connect_timeout_s: float = Field(default=3.0, gt=0)
    first_token_timeout_s: float = Field(default=10.0, gt=0)
    chunk_timeout_s: float = Field(default=15.0, gt=0)
    total_timeout_s: float = Field(default=60.0, gt=0)
    max_tokens: int = Field(default=512, ge=1)
    temperature: float = Field(default=0.2, ge=0, le=2)
    # How to stream from the endpoint: "direct" (Beacon's own pooled client, ~25 µs of CPU per
    # token) or "langchain" (langchain-openai's ChatOpenAI, ~300 µs per token).
    client: Literal["direct", "langchain"] = "direct"


class RetrievalSettings(_Section):
    kb_dir: Path = DEFAULT_KB_DIR
    index_dir: Path = Path("var/index")
    embeddings: Literal["hashing", "minilm", "openai"] = "hashing"
    top_k: int = Field(default=3, ge=1, le=10)
    build_if_missing: bool = True


class RouterSettings(_Section):
    """Thresholds of ``choose_route``; scores are the retriever's fused confidence in [0, 1]."""

    faq_min_score: float = Field(default=0.45, ge=0, le=1)
    faq_min_margin: float = Field(default=0.10, ge=0, le=1)
    answer_min_score: float = Field(default=0.20, ge=0, le=1)
    hard_min_chars: int = Field(default=280, ge=1)
    # Answer confident FAQ matches verbatim, without a model call. Unset: on for the embedded
    # `faq` provider, off when a model is configured (set true to trade tailoring for cost).
    faq_direct: bool | None = None


class LimitSettings(_Section):
    max_body_bytes: int = Field(default=16_384, ge=256)
    max_question_chars: int = Field(default=2000, ge=1)
    keepalive_s: float = Field(default=15.0, gt=0)


class ObservabilitySettings(_Section):
    """``log_level: warning`` silences the per-request lines; ``metrics_enabled`` and
    ``tracing_enabled`` switch the other two signals off (only to measure their overhead)."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    log_text: bool = False
    metrics_enabled: bool = True
    tracing_enabled: bool = True
    traces: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "beacon"


class CacheSettings(_Section):
    """The answer cache for repeated single-turn questions (in-process)."""

    enabled: bool = True
    ttl_s: float = Field(default=300.0, gt=0)
    max_entries: int = Field(default=10_000, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BEACON_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    env: Literal["dev", "prod"] = "dev"
    provider: Literal["faq", "openai"] = "faq"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    canary: SecretStr = SecretStr("BEACON-CANARY-7f3a9c2e")
    llm: LLMSettings = LLMSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    router: RouterSettings = RouterSettings()
    limits: LimitSettings = LimitSettings()
    cache: CacheSettings = CacheSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    @model_validator(mode="after")
    def _enforce_production_secrets(self) -> Settings:
        """Fail fast when a production deployment runs on the demo defaults."""
        if self.env == "prod":
            if self.canary.get_secret_value() == "BEACON-CANARY-7f3a9c2e":
                raise ValueError("BEACON_CANARY must be set to a per-deployment value in prod")
            if self.provider == "openai" and self.llm.api_key.get_secret_value() == "unset":
                raise ValueError("BEACON_LLM__API_KEY must be set when provider=openai in prod")
        return self

    def masked(self) -> dict[str, object]:
        """Settings as a dict for the startup log line; SecretStr fields stay masked."""
        return self.model_dump(mode="json")
