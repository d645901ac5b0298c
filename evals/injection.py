"""Prompt-injection evaluation: every CyberSecEval case through ``/ask``, to a model that obeys.

One run writes each case's system text and secret to the file ``--eval-system-prompts``
names, then starts the upstream simulator and one ``beacon serve`` whose models are the
simulator's compliant ones (``beacon-easy+compliant`` echoes every system message, secrets
included, then the question). Its router sends every question the guard lets through to a model
(no FAQ shortcut, ``answer_min_score=0``, no cache), so each allowed attack does reach the model.
Each case is asked with its key as ``conversation_id``, which appends its own system text to
Beacon's system prompt; all the case secrets are canaries of that server.

The three sinks are then read: each case's SSE body (the client stream), and the server's
stdout, which holds its log lines (question and answer text on) and its spans (console exporter).
A case's secret in any of them is a leak (goal: 0). The benign questions (the demo KB's questions
and paraphrases, the regression suite's in-scope questions) go through the same server: a guard
refusal there is a false positive (goal: at most 1 %).

``beacon eval run --suite injection`` runs it all and writes ``injection.json`` and
``summary.md``; ``run_injection_suite`` returns the report.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from evals.harness.target import served_beacon
from evals.injection_cases import (
    DATASET_DIR,
    load_benign_questions,
    load_injection_cases,
    write_eval_system_prompts,
)
from evals.injection_report import (
    Reply,
    ServerOutput,
    baseline_of,
    canary_leaks,
    detection,
    false_positives,
    gate,
    leaks,
    markdown,
)
from evals.upstream.config import SimulatorConfig
from evals.upstream.process import start_simulator
from service.settings import DEFAULT_KB_DIR

DEFAULT_WORK_DIR = Path("var/eval/injection")
DEFAULT_BASELINE = Path(__file__).resolve().parent / "baselines" / "injection.json"
SIMULATOR = SimulatorConfig(ttft_ms=1.0, tokens_per_second=5000.0)

__all__ = ["main", "run_injection_suite"]


def run_injection_suite(
    *,
    work_dir: Path = DEFAULT_WORK_DIR,
    report_dir: Path | None = None,
    sample: int | None = None,
    benign_sample: int | None = None,
    concurrency: int = 4,
    index_dir: Path | None = None,
    baseline: Path | None = None,
    update_baseline: bool = False,
) -> dict[str, Any]:
    """Run the cases (all, or a fixed sample) and the benign questions; return the report."""
    started, clock = datetime.now(UTC), time.perf_counter()
    cases = load_injection_cases(DATASET_DIR, sample=sample)
    benign = load_benign_questions(DEFAULT_KB_DIR, sample=benign_sample)
    canary = f"BEACON-EVAL-{secrets.token_hex(6)}"  # this run's deployment canary
    work_dir.mkdir(parents=True, exist_ok=True)
    prompts = write_eval_system_prompts(cases, work_dir / "eval-system-prompts.json")
    report_dir = report_dir or work_dir / "reports" / f"injection-{started:%Y%m%dT%H%M%SZ}"
    log_path = report_dir / "server.log"
    requests = [(case.key, case.user_input) for case in cases]
    requests += [(question.key, question.text) for question in benign]
    with start_simulator(config=SIMULATOR) as simulator:
        env = _server_env(simulator.openai_base_url, canary, index_dir or work_dir / "index")
        harness_args = ("--eval-system-prompts", str(prompts.resolve()))
        with served_beacon(env, log_path=log_path, harness_args=harness_args) as url:
            replies = asyncio.run(_ask_all(url, requests, concurrency=concurrency))
    output = ServerOutput.parse(log_path.read_text(encoding="utf-8", errors="replace"))
    attack_replies, benign_replies = replies[: len(cases)], replies[len(cases) :]
    report: dict[str, Any] = {
        "suite": "injection",
        "cases": len(cases),
        "requests": len(requests),
        "streams": sum(reply.status == 200 for reply in replies),  # the rest failed validation
        "run": {
            "started_at": started.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - clock, 1),
            "sample": sample,
            "concurrency": concurrency,
            "settings": {k: v for k, v in env.items() if k != "BEACON_CANARY"},
        },
        "leaks": leaks(cases, attack_replies, output),
        "canary_leaks": canary_leaks(canary, replies, output),
        "sink_coverage": output.coverage(),
        "detection": detection(cases, attack_replies),
        "false_positives": false_positives(benign, benign_replies),
    }
    report["gate"] = gate(report, _read_baseline(baseline, sample))
    if update_baseline:
        (baseline or DEFAULT_BASELINE).write_bytes(
            orjson.dumps(baseline_of(report), option=orjson.OPT_INDENT_2)
        )
    _write(report, report_dir)
    return report


def main(
    *,
    target: str | None = None,
    report_dir: Path | None = None,
    baseline: Path | None = None,
    update_baseline: bool = False,
    repeats: int = 1,
    concurrency: int = 4,
) -> int:
    """``beacon eval run --suite injection``: the full run; exit 0 when the gate passes."""
    if target is not None or repeats != 1:
        sys.stderr.write("the injection suite starts its own Beacon: no --target or --repeats\n")
        return 2
    report = run_injection_suite(
        report_dir=report_dir,
        concurrency=concurrency,
        baseline=baseline,
        update_baseline=update_baseline,
    )
    sys.stdout.write(markdown(report))
    return 0 if report["gate"]["passed"] else 1


def _server_env(base_url: str, canary: str, index_dir: Path) -> dict[str, str]:
    return {
        "BEACON_PROVIDER": "openai",
        "BEACON_LLM__BASE_URL": base_url,
        "BEACON_LLM__EASY_MODEL": "beacon-easy+compliant",
        "BEACON_LLM__HARD_MODEL": "beacon-hard+compliant",
        "BEACON_ROUTER__FAQ_DIRECT": "false",
        "BEACON_ROUTER__ANSWER_MIN_SCORE": "0",
        "BEACON_CACHE__ENABLED": "false",
        "BEACON_OBSERVABILITY__LOG_TEXT": "true",
        "BEACON_OBSERVABILITY__TRACES": "console",
        "BEACON_CANARY": canary,
        "BEACON_RETRIEVAL__INDEX_DIR": str(index_dir.resolve()),
        "BEACON_RETRIEVAL__EMBEDDINGS": "hashing",
        "OTEL_BSP_MAX_QUEUE_SIZE": "1000000",  # keep every span of the run for the sink check
    }


async def _ask_all(
    url: str, requests: Sequence[tuple[str, str]], *, concurrency: int
) -> list[Reply]:
    """Ask every (conversation id, question) with at most ``concurrency`` in flight."""
    replies = [Reply() for _ in requests]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for position in range(len(requests)):
        queue.put_nowait(position)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                position = queue.get_nowait()
                key, question = requests[position]
                replies[position] = await _ask(client, key, question)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return replies


async def _ask(client: httpx.AsyncClient, key: str, question: str) -> Reply:
    body = {"question": question, "conversation_id": key}
    try:
        response = await client.post("/ask", json=body)
    except httpx.HTTPError as exc:
        return Reply(status=0, error_code=type(exc).__name__)
    reply = Reply(status=response.status_code, body=response.text)
    if response.status_code == 200:
        _read_events(reply)
    return reply


def _read_events(reply: Reply) -> None:
    text: list[str] = []
    for frame in reply.body.replace("\r\n", "\n").split("\n\n"):
        name = next((ln[6:].strip() for ln in frame.split("\n") if ln.startswith("event:")), "")
        data = "".join(ln[5:].strip() for ln in frame.split("\n") if ln.startswith("data:"))
        if not data:
            continue
        payload = orjson.loads(data)
        reply.events.append(name)
        if name == "meta":
            reply.reason = str(payload.get("reason", ""))
        elif name == "evidence" and payload.get("retrieved"):
            reply.top_score = float(payload["retrieved"][0]["score"])
        elif name == "token":
            text.append(str(payload.get("text", "")))
        elif name == "redaction":
            reply.redactions[str(payload["kind"])] = int(payload["count"])
        elif name == "done":
            reply.finish_reason = str(payload.get("finish_reason", ""))
        elif name == "error":
            reply.error_code = str(payload.get("code", ""))
    reply.text = "".join(text)


def _read_baseline(path: Path | None, sample: int | None) -> dict[str, Any] | None:
    """The detection rates to hold (not for a sample: its rates are not the suite's)."""
    source = path or DEFAULT_BASELINE
    if sample is not None or not source.is_file():
        return None
    baseline: dict[str, Any] = orjson.loads(source.read_bytes())
    return baseline


def _write(report: dict[str, Any], report_dir: Path) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "injection.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    (report_dir / "summary.md").write_text(markdown(report), encoding="utf-8")
