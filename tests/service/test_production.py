"""Production is closed by default: keys and a rate limit, no docs, internal endpoints apart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError
from starlette.testclient import TestClient

from evals.upstream.process import child_environment, pick_free_port, stop_process, wait_for_http
from service.admission import hash_api_key
from service.app import create_app
from service.internal_app import INTERNAL_PATHS, ResourceSlot, create_internal_app
from service.settings import AdmissionSettings, LLMSettings, Settings
from tests.conftest import AppHandle
from tests.split_server import serve_split

KEY = "prod-test-key"
PROD: dict[str, Any] = {
    "env": "prod",
    "canary": SecretStr("per-deployment-canary-1234"),
    "admission": AdmissionSettings(api_key_sha256=(hash_api_key(KEY),), rate_per_s=5.0),
}


def prod(**overrides: Any) -> dict[str, Any]:
    return {**PROD, **overrides}


def test_prod_without_api_keys_refuses_to_start_and_says_what_to_set() -> None:
    """A prod Settings with no keys fails, naming the key setting and the explicit opt-out."""
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **prod(admission=AdmissionSettings(rate_per_s=5.0)))  # type: ignore[call-arg]
    message = str(refused.value)
    assert "BEACON_ADMISSION__API_KEY_SHA256" in message
    assert "BEACON_ADMISSION__ALLOW_ANONYMOUS_IN_PROD=true" in message


def test_prod_without_a_rate_limit_refuses_to_start() -> None:
    """Keys alone are not enough in prod: the rate limit must be set too."""
    keyed = AdmissionSettings(api_key_sha256=(hash_api_key(KEY),))
    with pytest.raises(ValidationError, match="BEACON_ADMISSION__RATE_PER_S"):
        Settings(_env_file=None, **prod(admission=keyed))  # type: ignore[call-arg]
    opted_out = AdmissionSettings(allow_anonymous_in_prod=True)
    with pytest.raises(ValidationError, match="BEACON_ADMISSION__RATE_PER_S"):
        Settings(_env_file=None, **prod(admission=opted_out))  # type: ignore[call-arg]


def test_a_tenant_key_alone_satisfies_prod() -> None:
    """Keys bound to customers count as keys."""
    tenant = AdmissionSettings(api_key_customers={hash_api_key(KEY): "demo-bo"}, rate_per_s=1.0)
    assert Settings(_env_file=None, **prod(admission=tenant)).admission.keyed  # type: ignore[call-arg]


def test_the_internal_port_must_differ_from_the_public_one() -> None:
    """Serving both apps on one port is a configuration error."""
    with pytest.raises(ValidationError, match="BEACON_INTERNAL_PORT"):
        Settings(_env_file=None, port=8000, internal_port=8000)  # type: ignore[call-arg]


def json_lines(capfd: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capfd.readouterr().out
    return [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_open_doors_in_prod_are_logged_as_warnings(
    settings_factory: Callable[..., Settings], capfd: pytest.CaptureFixture[str]
) -> None:
    """allow_anonymous_in_prod lets prod start without keys, and says so at warning level; so
    does a prod without internal_port, whose /metrics and /readyz are public."""
    open_door = AdmissionSettings(allow_anonymous_in_prod=True, rate_per_s=5.0)
    create_app(settings_factory(**prod(admission=open_door)), registry=CollectorRegistry())
    warnings = {line["event"]: line["level"] for line in json_lines(capfd)}
    assert warnings["anonymous_access_in_prod"] == "warning"
    assert warnings["internal_endpoints_public"] == "warning"
    create_app(settings_factory(**prod(internal_port=9090)), registry=CollectorRegistry())
    events = {line["event"] for line in json_lines(capfd)}
    assert not events & {"anonymous_access_in_prod", "internal_endpoints_public"}


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_and_openapi_are_off_in_prod(
    beacon_factory: Callable[..., AppHandle], path: str
) -> None:
    """Prod answers 404 for the docs and the schema; dev serves them; api_docs=true restores
    them in prod for a staging deployment."""
    assert httpx.get(beacon_factory(**PROD).url + path, timeout=5).status_code == 404
    assert httpx.get(beacon_factory().url + path, timeout=5).status_code == 200
    staging = beacon_factory(**prod(api_docs=True))
    assert httpx.get(staging.url + path, timeout=5).status_code == 200


def test_metrics_and_readiness_are_served_on_the_internal_port_only(
    settings_factory: Callable[..., Settings],
) -> None:
    """With internal_port the public app answers 404 for /metrics and /readyz; the internal
    app serves them (and counts the public app's requests), and nothing else."""
    with serve_split(settings_factory(internal_port=1)) as split:
        public, private = split.public.url, split.internal.url
        for path in INTERNAL_PATHS:
            assert httpx.get(public + path, timeout=5).status_code == 404, path
            assert httpx.get(private + path, timeout=5).status_code == 200, path
        assert httpx.get(public + "/healthz", timeout=5).status_code == 200
        asked = httpx.post(public + "/ask", json={"question": "怎么申请退款？"}, timeout=30)
        assert asked.status_code == 200
        metrics = httpx.get(private + "/metrics", timeout=5).text
        assert 'beacon_requests_total{outcome="ok",route="faq"} 1.0' in metrics
        assert httpx.post(private + "/ask", json={"question": "hi"}, timeout=5).status_code == 404


def test_internal_readiness_waits_for_the_public_lifespan() -> None:
    """Before the public app has built its resources the internal /readyz answers 503."""
    with TestClient(create_internal_app(CollectorRegistry(), ResourceSlot())) as client:
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_the_startup_log_line_has_no_url_credentials(
    beacon_factory: Callable[..., AppHandle], capfd: pytest.CaptureFixture[str]
) -> None:
    """settings_loaded prints the URLs without user-info or secret query values."""
    llm = LLMSettings(base_url="https://svc-user:hunter2-Pa55@gw.example:8443/v1?api_key=sk-9a8b")
    beacon_factory(llm=llm)
    (line,) = [entry for entry in json_lines(capfd) if entry["event"] == "settings_loaded"]
    rendered = orjson.dumps(line).decode()
    for secret in ("hunter2-Pa55", "svc-user", "sk-9a8b"):
        assert secret not in rendered
    assert line["settings"]["llm"]["base_url"] == "https://***@gw.example:8443/v1?api_key=***"


@pytest.mark.slow
def test_beacon_serve_runs_the_internal_port_in_the_same_process(demo_index_dir: Path) -> None:
    """`beacon serve` with BEACON_INTERNAL_PORT serves /ask on the public port and /metrics on
    the internal one, from one process, and stops both on SIGTERM."""
    public, internal = pick_free_port("127.0.0.1"), pick_free_port("127.0.0.1")
    env = child_environment() | {
        "BEACON_PORT": str(public),
        "BEACON_INTERNAL_PORT": str(internal),
        "BEACON_RETRIEVAL__INDEX_DIR": str(demo_index_dir),
    }
    command = [sys.executable, "-m", "service.cli", "serve"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        problem = wait_for_http(f"http://127.0.0.1:{internal}/readyz", process, timeout_s=60)
        assert problem is None, problem
        assert httpx.get(f"http://127.0.0.1:{public}/metrics", timeout=5).status_code == 404
        scrape = httpx.get(f"http://127.0.0.1:{internal}/metrics", timeout=5)
        assert "beacon_requests_total" in scrape.text
    finally:
        stop_process(process)
    assert process.returncode is not None
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in stderr, stderr
