"""Typed settings for Beacon, read from the environment (prefix ``BEACON_``, nesting ``__``).

Tests build ``Settings(_env_file=None, ...)`` directly; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import rag
from rag.retriever import Fusion
from service.url_credentials import hide_credentials_in

DEFAULT_KB_DIR = Path(rag.__file__).parent / "kb"
MIN_CANARY_CHARS = 8
MIN_TOKEN_SECRET_BYTES = 32  # RFC 7518 section 3.2: an HS256 key as long as the hash
CUSTOMER_ID_PATTERN = r"[A-Za-z0-9._:\-]{1,128}"  # fullmatch only: linear, no nesting


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LLMSettings(_Section):
    """An OpenAI-compatible endpoint; the easy and hard tiers are two model names on it."""

    base_url: str = "http://127.0.0.1:8100/v1"
    api_key: SecretStr = SecretStr("unset")
    easy_model: str = "beacon-easy"
    hard_model: str = "beacon-hard"
    connect_timeout_s: float = Field(default=3.0, gt=0)
    # The HTTP client's own limits (a backstop: the per-tier deadlines of ``resilience`` are
    # what a request is held to): a read that waits this long, a call that lasts this long.
    chunk_timeout_s: float = Field(default=15.0, gt=0)
    total_timeout_s: float = Field(default=60.0, gt=0)
    max_tokens: int = Field(default=512, ge=1)
    temperature: float = Field(default=0.2, ge=0, le=2)
    # How to stream from the endpoint: "direct" (Beacon's own pooled client, ~25 µs of CPU per
    # token) or "langchain" (langchain-openai's ChatOpenAI, ~300 µs per token).
    client: Literal["direct", "langchain"] = "direct"


class FusionSettings(_Section):
    """Weights of the retrieval signals (``rag.retriever.Fusion``); keep their sum at 1."""

    dense: float = Field(default=Fusion.dense, ge=0, le=1)
    lexical: float = Field(default=Fusion.lexical, ge=0, le=1)
    matcher: float = Field(default=Fusion.matcher, ge=0, le=1)


class RetrievalSettings(_Section):
    kb_dir: Path = DEFAULT_KB_DIR
    index_dir: Path = Path("var/index")
    embeddings: Literal["hashing", "minilm", "openai"] = "hashing"
    top_k: int = Field(default=3, ge=1, le=10)
    build_if_missing: bool = True
    fusion: FusionSettings = FusionSettings()


class RouterSettings(_Section):
    """Thresholds of ``choose_route``; scores are the retriever's fused confidence in [0, 1]."""

    # Calibrated per language on dev data only (kb_heldout.yaml + dev_out_of_scope.yaml; rerun
    # `python -m evals.calibrate_router` after the KB changes, which states the rules). Chinese
    # and English are matched on different features, so their scores run on different scales.
    # Answer from the best entry above the confident score: the most dev questions answered
    # right, less ten for each answered wrong or out of scope.
    faq_min_score: float = Field(default=0.50, ge=0, le=1)
    faq_min_score_zh: float = Field(default=0.30, ge=0, le=1)
    # Below it the best two entries are too close to call (clarify, or the model). Dev data has
    # few ambiguous one-word questions ("refund"): a smaller margin answered them anyway.
    faq_min_margin: float = Field(default=0.15, ge=0, le=1)
    # Refuse below it: the lowest score at which at most 5% of dev out-of-scope questions would
    # be clarified instead (between the two, the router asks which entry is meant).
    answer_min_score: float = Field(default=0.37, ge=0, le=1)
    answer_min_score_zh: float = Field(default=0.24, ge=0, le=1)
    hard_min_chars: int = Field(default=280, ge=1)
    # Answer confident FAQ matches verbatim, without a model call. Unset: on for the embedded
    # `faq` provider, off when a model is configured (set true to trade tailoring for cost).
    faq_direct: bool | None = None
    # Ask which entry the customer means instead of answering from an unsure match. Unset: on
    # for the embedded `faq` provider (it can only quote an entry), off when a model is
    # configured (the model answers from the evidence and says when it cannot).
    clarify_unsure: bool | None = None


class ConversationSettings(_Section):
    """Conversation memory: the SQLite file (embedded default), what is kept and for how long,
    and what a model is given (a summary plus recent turns within ``history_tokens``)."""

    enabled: bool = True
    path: Path = Path("var/conversations.sqlite")
    max_turns: int = Field(default=12, ge=1)  # kept verbatim; older ones live in the summary
    ttl_s: float = Field(default=30 * 86_400, gt=0)  # idle conversations expire, then are pruned
    busy_timeout_s: float = Field(default=0.25, gt=0)  # a locked file: answer statelessly
    turn_wait_s: float = Field(default=10.0, gt=0)  # a second turn waits this long, then 409
    history_tokens: int = Field(default=800, ge=0)
    condense_timeout_s: float = Field(default=1.5, gt=0)
    summary_after_messages: int = Field(default=6, ge=2)


class LimitSettings(_Section):
    """``max_question_chars`` is what ``AskRequest`` accepts (422 past it)."""

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


class TierDeadlines(_Section):
    """Deadlines of one model call: to the first token, between chunks, and in total."""

    first_token_s: float = Field(default=5.0, gt=0)
    chunk_s: float = Field(default=10.0, gt=0)
    total_s: float = Field(default=30.0, gt=0)


class HardTierDeadlines(TierDeadlines):
    """The strong model may think longer before it speaks."""

    first_token_s: float = Field(default=10.0, gt=0)
    chunk_s: float = Field(default=15.0, gt=0)
    total_s: float = Field(default=60.0, gt=0)


class ResilienceSettings(_Section):
    """Deadlines per tier, retries before the first token, circuit breakers (see
    ``service/resilience``), and the deadline of a retrieval."""

    easy: TierDeadlines = TierDeadlines()
    hard: HardTierDeadlines = HardTierDeadlines()
    attempts_per_model: int = Field(default=2, ge=1)
    retries_per_request: int = Field(default=2, ge=0)
    retry_max_wait_s: float = Field(default=2.0, ge=0)
    backoff_base_s: float = Field(default=0.1, ge=0)
    backoff_max_s: float = Field(default=1.0, ge=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, gt=0)
    retrieval_timeout_s: float = Field(default=2.0, gt=0)


class AdmissionSettings(_Section):
    """API keys as SHA-256 hex digests (none: no key needed), a per-key token bucket (off when
    ``rate_per_s`` is unset), and a global concurrency limit with a bounded queue.

    Who the customer is (``service/admission/keys.py``): ``api_key_customers`` binds a key digest
    to one customer; the support site's customer tokens are HS256 JWTs signed with
    ``customer_token_secret`` (32+ bytes), living at most ``customer_token_max_ttl_s``. In prod,
    ``allow_anonymous_in_prod`` is the explicit (and logged) opt-out from keys, for a trusted
    network only."""

    api_key_sha256: tuple[str, ...] = ()
    api_key_customers: dict[str, str] = Field(default_factory=dict)
    customer_token_secret: SecretStr | None = None
    customer_token_max_ttl_s: float = Field(default=900.0, gt=0, le=86_400)
    allow_anonymous_in_prod: bool = False
    rate_per_s: float | None = Field(default=None, gt=0)
    burst: int = Field(default=20, ge=1)
    max_in_flight: int = Field(default=256, ge=1)
    max_queue: int = Field(default=512, ge=0)
    max_wait_s: float = Field(default=10.0, gt=0)
    queued_every_s: float = Field(default=1.0, gt=0)
    retry_after_s: float = Field(default=1.0, gt=0)

    @field_validator("api_key_sha256")
    @classmethod
    def _digests_only(cls, digests: tuple[str, ...]) -> tuple[str, ...]:
        if any(re.fullmatch(r"[0-9a-fA-F]{64}", digest) is None for digest in digests):
            raise ValueError("api_key_sha256 holds SHA-256 hex digests, never the keys")
        return digests

    @field_validator("api_key_customers")
    @classmethod
    def _digests_to_customer_ids(cls, customers: dict[str, str]) -> dict[str, str]:
        if any(re.fullmatch(r"[0-9a-fA-F]{64}", digest) is None for digest in customers):
            raise ValueError("api_key_customers maps SHA-256 hex digests, never the keys")
        if any(re.fullmatch(CUSTOMER_ID_PATTERN, who) is None for who in customers.values()):
            raise ValueError("api_key_customers values are customer ids (A-Z a-z 0-9 . _ : -)")
        return customers

    @field_validator("customer_token_secret")
    @classmethod
    def _strong_token_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_TOKEN_SECRET_BYTES:
            raise ValueError(
                f"customer_token_secret needs {MIN_TOKEN_SECRET_BYTES}+ random bytes "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return secret

    @property
    def keyed(self) -> bool:
        return bool(self.api_key_sha256 or self.api_key_customers)


class ToolSettings(_Section):
    """``get_order_status``: the demo order database (default: ``orders.sqlite`` in the index
    directory), its timeout and attempts (2: one retry)."""

    orders_db: Path | None = None
    timeout_s: float = Field(default=1.0, gt=0)
    attempts: int = Field(default=2, ge=1)


class StateSettings(_Section):
    """Where shared state lives: in this process (and SQLite files under ``var/``), or in Redis
    so that replicas share it (``service/state``). ``url``: ``redis://``, ``rediss://``,
    ``unix://`` or ``redis+sentinel://host:port[,host:port]/service_name[/db]``; a password in
    it stays masked in logs."""

    backend: Literal["memory", "redis"] = "memory"
    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    key_prefix: str = Field(default="beacon", pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    max_connections: int = Field(default=32, ge=1)
    timeout_s: float = Field(default=0.25, gt=0)
    # After a failed call, features use their fallback for this long before Redis is tried again.
    cooldown_s: float = Field(default=1.0, gt=0)
    # While Redis is unreachable each replica allows this share of the rate limit and the
    # concurrency limit on its own (1/replicas keeps the total at the limit).
    local_share: float = Field(default=0.5, gt=0, le=1)
    # A crashed replica's slots free themselves after this long (longer than any request).
    slot_lease_s: float = Field(default=300.0, gt=0)


class GroundingSettings(_Section):
    """Model answers are checked against their cited evidence while they stream."""

    enabled: bool = True
    action: Literal["replace", "handoff", "observe"] = "replace"
    """An unsupported claim's sentence: replaced by a pointer to the cited entry, by an offer
    of a human (and the answer ends), or left as is and only reported (evals)."""


class FeedbackSettings(_Section):
    """Customer ratings and the answers they rate: a SQLite file (``service/feedback``)."""

    db_path: Path = Path("var/feedback.sqlite")
    answer_ttl_s: float = Field(default=30 * 86_400.0, gt=0)


class TurnSettings(_Section):
    """Resumable turns (``service/turns``): each turn's buffered events are capped in number
    and bytes, and kept ``ttl_s`` after the turn ends for a client to reconnect."""

    max_events: int = Field(default=4096, ge=16)
    max_bytes: int = Field(default=1_048_576, ge=4096)
    ttl_s: float = Field(default=300.0, gt=0)
    max_turns: int = Field(default=10_000, ge=1)


class WebSettings(_Section):
    """Sites allowed to embed ``/widget.js`` from another origin (CORS), e.g.
    ``BEACON_WEB__ALLOWED_ORIGINS='["https://shop.example"]'``; none: same origin only."""

    allowed_origins: tuple[str, ...] = ()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BEACON_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    env: Literal["dev", "prod"] = "dev"
    provider: Literal["faq", "openai"] = "faq"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Serve /metrics and /readyz (and /healthz) on this port only, not on the public one;
    # ``internal_host`` defaults to ``host``. Unset: the public port serves them.
    internal_port: int | None = Field(default=None, ge=0, le=65535)
    internal_host: str | None = None
    # /docs, /redoc and /openapi.json. Unset: served in dev, not in prod.
    api_docs: bool | None = None
    canary: SecretStr = SecretStr("BEACON-CANARY-7f3a9c2e")
    # More markers that block an answer and are hidden from logs and spans, like the canary
    # (e.g. secrets an operator's prompt holds); a JSON list in BEACON_EXTRA_CANARIES.
    extra_canaries: tuple[SecretStr, ...] = ()
    llm: LLMSettings = LLMSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    router: RouterSettings = RouterSettings()
    conversations: ConversationSettings = ConversationSettings()
    limits: LimitSettings = LimitSettings()
    cache: CacheSettings = CacheSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    resilience: ResilienceSettings = ResilienceSettings()
    admission: AdmissionSettings = AdmissionSettings()
    tools: ToolSettings = ToolSettings()
    state: StateSettings = StateSettings()
    grounding: GroundingSettings = GroundingSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    turns: TurnSettings = TurnSettings()
    web: WebSettings = WebSettings()

    @field_validator("canary", "extra_canaries")
    @classmethod
    def _long_enough(
        cls, value: SecretStr | tuple[SecretStr, ...]
    ) -> SecretStr | tuple[SecretStr, ...]:
        """A short marker would match ordinary words and block honest answers."""
        markers = value if isinstance(value, tuple) else (value,)
        if any(len(marker.get_secret_value().strip()) < MIN_CANARY_CHARS for marker in markers):
            raise ValueError(f"canaries need at least {MIN_CANARY_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _enforce_production_secrets(self) -> Settings:
        """Fail fast when a production deployment runs on the demo defaults."""
        if self.env == "prod":
            if self.canary.get_secret_value() == "BEACON-CANARY-7f3a9c2e":
                raise ValueError("BEACON_CANARY must be set to a per-deployment value in prod")
            if self.provider == "openai" and self.llm.api_key.get_secret_value() == "unset":
                raise ValueError("BEACON_LLM__API_KEY must be set when provider=openai in prod")
        return self

    @model_validator(mode="after")
    def _enforce_closed_production(self) -> Settings:
        """Production is closed by default: keys (or an explicit opt-out) and a rate limit."""
        if self.internal_port is not None and self.internal_port == self.port != 0:
            raise ValueError("BEACON_INTERNAL_PORT must differ from BEACON_PORT")
        if self.env != "prod":
            return self
        if not (self.admission.keyed or self.admission.allow_anonymous_in_prod):
            raise ValueError(
                "BEACON_ENV=prod needs API keys: set BEACON_ADMISSION__API_KEY_SHA256 to a JSON "
                "list of the keys' SHA-256 hex digests (printf %s KEY | sha256sum), or, on a "
                "trusted network only, BEACON_ADMISSION__ALLOW_ANONYMOUS_IN_PROD=true"
            )
        if self.admission.rate_per_s is None:
            raise ValueError(
                "BEACON_ENV=prod needs a rate limit: set BEACON_ADMISSION__RATE_PER_S (requests "
                "per second per key, e.g. 5) and BEACON_ADMISSION__BURST"
            )
        return self

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.env != "prod"

    def masked(self) -> dict[str, object]:
        """Settings as a dict for the startup log line: SecretStr fields stay masked, and URLs
        lose their credentials (``user:password@``, ``?api_key=``)."""
        dumped = self.model_dump(mode="json")
        return {name: hide_credentials_in(value) for name, value in dumped.items()}
