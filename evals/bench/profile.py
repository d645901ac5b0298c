"""How big a benchmark run is: ``full`` for the numbers, ``smoke`` for a seconds-long check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    overhead_rounds: int
    overhead_clients: tuple[str, ...]  # the openai provider's clients compared
    warmup: int
    stream_counts: tuple[int, ...]
    stream_tokens: int
    stream_ramp_s: float
    client_streams: int
    saturate_s: float
    saturate_connections: int
    observability_rounds: int
    replica_rounds: int  # interleaved rounds of the replicas scenario (each case keeps its best)
    retrieval_rows: tuple[int, ...]
    retrieval_queries: int
    retrieval_minilm: bool  # when installed; loading the model alone takes ~20 s


FULL = Profile(
    name="full",
    overhead_rounds=150,
    overhead_clients=("direct", "langchain"),
    warmup=20,
    stream_counts=(32, 64, 128, 256, 512),
    stream_tokens=200,
    stream_ramp_s=1.0,
    client_streams=100,
    saturate_s=8.0,
    saturate_connections=32,
    observability_rounds=2,
    replica_rounds=3,
    retrieval_rows=(1_000, 10_000, 100_000),
    retrieval_queries=1_000,
    retrieval_minilm=True,
)
SMOKE = Profile(
    name="smoke",
    overhead_rounds=4,
    overhead_clients=("direct",),  # langchain has its own contract tests
    warmup=1,
    stream_counts=(4,),
    stream_tokens=12,
    stream_ramp_s=0.0,
    client_streams=4,
    saturate_s=0.4,
    saturate_connections=4,
    observability_rounds=1,
    replica_rounds=1,
    retrieval_rows=(300,),
    retrieval_queries=20,
    retrieval_minilm=False,
)
# The acceptance figures in about a minute: 128 streams of 50 tokens/s started over
# 500 ms, and the overhead cases at concurrency 1.
ACCEPTANCE = Profile(
    name="acceptance",
    overhead_rounds=40,
    overhead_clients=("direct",),
    warmup=5,
    stream_counts=(128,),
    stream_tokens=100,
    stream_ramp_s=0.5,
    client_streams=16,
    saturate_s=2.0,
    saturate_connections=16,
    observability_rounds=1,
    replica_rounds=2,
    retrieval_rows=(1_000,),
    retrieval_queries=100,
    retrieval_minilm=False,
)
PROFILES = {profile.name: profile for profile in (FULL, SMOKE, ACCEPTANCE)}
