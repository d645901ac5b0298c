"""The deploy kit: alert rules (promtool), scrape config, dashboard, collector, image, manifests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import ValidationError

from service.settings import Settings
from tests.conftest import AppHandle
from tests.deploy.prometheus import DEPLOY, PROMETHEUS_DIR, promtool, render_config
from tests.observability.scrape import scrape_families
from tests.split_server import serve_split

ALERTS = {
    "BeaconHighErrorRate", "BeaconSlowFirstToken", "BeaconHighFallbackRate", "BeaconShedding",
    "BeaconCostBurn", "BeaconRefusalSpike", "BeaconEmptyRetrievalSpike", "BeaconNoTraffic",
    "BeaconSharedStateDown", "BeaconSharedStateErrors",
    "BeaconUngroundedAnswers",
}  # fmt: skip
METRIC_NAME = re.compile(r"\bbeacon_[a-z_]+\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml(PROMETHEUS_DIR / "alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "beacon.json").read_text(encoding="utf-8"))
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def k8s(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = load_yaml(DEPLOY / "k8s" / name)
    return manifest


def test_alert_rules_pass_promtool_check() -> None:
    """promtool accepts the alert rules."""
    result = promtool("check", "rules", PROMETHEUS_DIR / "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rule_unit_tests_pass() -> None:
    """Every alert fires on its synthetic failure and stays quiet on healthy traffic."""
    result = promtool("test", "rules", PROMETHEUS_DIR / "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_both_ways_and_has_a_runbook_section() -> None:
    """Each alert has a firing and a quiet case in alerts_test.yml and a runbook heading."""
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert set(rules) == ALERTS
    cases = [
        case
        for test in load_yaml(PROMETHEUS_DIR / "alerts_test.yml")["tests"]
        for case in test.get("alert_rule_test", [])
    ]
    runbook = (DEPLOY / "runbook.md").read_text(encoding="utf-8")
    for name, rule in rules.items():
        outcomes = {bool(case["exp_alerts"]) for case in cases if case["alertname"] == name}
        assert outcomes == {True, False}, name
        assert rule["annotations"]["runbook_url"] == f"deploy/runbook.md#{name.lower()}"
        assert f"\n## {name}\n" in runbook


def test_shipped_and_rendered_scrape_configs_pass_promtool(tmp_path: Path) -> None:
    """The shipped prometheus.yml and the one rendered for a local Beacon are both valid."""
    shipped = promtool("check", "config", PROMETHEUS_DIR / "prometheus.yml")
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    rendered = promtool("check", "config", render_config("127.0.0.1:8000", tmp_path))
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr


@pytest.mark.parametrize("source", ["dashboard", "alerts"])
def test_every_metric_named_in_promql_is_exposed(beacon: AppHandle, source: str) -> None:
    """Each beacon_* name in the dashboard's and alerts' PromQL is a sample name of a metric
    family in the service's real /metrics output."""
    exprs = dashboard_exprs() if source == "dashboard" else [r["expr"] for r in alert_rules()]
    named = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    exposed = {
        family.name + suffix
        for family in scrape_families(beacon.url).values()
        for suffix in SUFFIXES.get(family.type, ())
    }
    assert named and named <= exposed, named - exposed


def test_dashboard_panels_cover_the_on_call_questions() -> None:
    """The dashboard shows golden signals, TTFT with exemplars, routes, cost, safety and queue."""
    dashboard = json.loads((DEPLOY / "grafana" / "beacon.json").read_text(encoding="utf-8"))
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(panel["title"].lower() for panel in panels)
    for topic in ("requests", "error", "duration", "queue", "first token", "route mix", "cost"):
        assert topic in titles, topic
    for topic in ("fallbacks", "redactions", "refusals"):
        assert topic in titles, topic
    ttft = next(panel for panel in panels if "first token" in panel["title"].lower())
    assert all(target.get("exemplar") for target in ttft["targets"])


def test_collector_pipeline_uses_only_defined_components() -> None:
    """The OTel collector config receives OTLP/HTTP on the port Beacon sends to by default."""
    config = load_yaml(DEPLOY / "otel" / "collector.yaml")
    pipeline = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert pipeline["processors"][0] == "memory_limiter"
    http = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    default = Settings.model_fields["observability"].default.otlp_endpoint
    assert http.rsplit(":", 1)[1] == default.split(":")[2].split("/")[0]


def test_dockerfile_is_multi_stage_and_runs_as_non_root() -> None:
    """The image builds in one stage, runs in another as a numeric non-root user, serves :8000.
    (No Docker engine here: the file is checked, not built.)"""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, flags=re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    (user,) = re.findall(r"^USER (\d+):(\d+)$", runtime, flags=re.M)
    assert int(user[0]) >= 1000
    assert "COPY --from=build /opt/venv" in runtime and "pip install" not in runtime
    assert re.search(r'^CMD \["beacon", "serve"\]$', runtime, flags=re.M)
    assert "EXPOSE 8000" in runtime and "BEACON_PORT=8000" in runtime
    for source in re.findall(r"^COPY (?!--)(\S+) ", text, flags=re.M):
        assert (DEPLOY.parent / source).exists(), source


def container_port(container: dict[str, Any], name: str) -> int:
    (port,) = [port["containerPort"] for port in container["ports"] if port["name"] == name]
    return int(port)


def test_deployment_probes_resources_and_security(
    settings_factory: Callable[..., Settings],
) -> None:
    """The Deployment probes routes the internal port answers (and the public one does not
    serve /readyz), limits resources, runs non-root, and its scrape annotations, PodMonitor
    and BEACON_INTERNAL_PORT all name the internal port, which the Service does not expose."""
    deployment = k8s("deployment.yaml")
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    probe_kinds = ("startupProbe", "livenessProbe", "readinessProbe")
    probes = [container[probe]["httpGet"] for probe in probe_kinds]
    assert [probe["path"] for probe in probes] == ["/readyz", "/healthz", "/readyz"]
    assert {probe["port"] for probe in probes} == {"internal"}
    internal_port = container_port(container, "internal")
    assert int(k8s("configmap.yaml")["data"]["BEACON_INTERNAL_PORT"]) == internal_port
    with serve_split(settings_factory(internal_port=internal_port)) as split:
        for path in ("/healthz", "/readyz"):
            assert httpx.get(f"{split.internal.url}{path}", timeout=5).status_code == 200, path
        assert httpx.get(f"{split.public.url}/readyz", timeout=5).status_code == 404
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == internal_port
    (endpoint,) = k8s("podmonitor.yaml")["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("internal", "/metrics")
    exposed = {port["targetPort"] for port in k8s("service.yaml")["spec"]["ports"]}
    assert exposed == {"http"}


def test_manifests_select_the_deployment_pods() -> None:
    """Service, HPA, PDB and PodMonitor all point at the Deployment's pods."""
    labels = k8s("deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert k8s("service.yaml")["spec"]["selector"].items() <= labels.items()
    assert k8s("pdb.yaml")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert k8s("podmonitor.yaml")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert k8s("hpa.yaml")["spec"]["scaleTargetRef"]["name"] == "beacon"
    resources = set(k8s("kustomization.yaml")["resources"])
    assert {
        "deployment.yaml",
        "service.yaml",
        "hpa.yaml",
        "pdb.yaml",
        "configmap.yaml",
    } <= resources


def test_configmap_and_secret_load_as_production_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ConfigMap's and example Secret's keys are real settings that pass prod validation."""
    deployment = k8s("deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    sources = {
        ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]
    }
    configmap, secret = k8s("configmap.yaml"), k8s("secret.example.yaml")
    assert sources == {configmap["metadata"]["name"], secret["metadata"]["name"]}
    for key, value in {**configmap["data"], **secret["stringData"]}.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.env, settings.provider, settings.observability.traces) == (
        "prod",
        "openai",
        "otlp",
    )
    assert settings.admission.keyed and settings.admission.rate_per_s is not None
    assert settings.admission.customer_token_secret is not None
    assert not settings.admission.allow_anonymous_in_prod
    assert settings.internal_port == container_port(container, "internal")
    assert not settings.serves_api_docs


def runtime_env() -> dict[str, str]:
    """The ENV of the image's runtime stage."""
    runtime = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").split("AS runtime", 1)[1]
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", runtime, flags=re.M)
    assert block is not None
    pairs = block[1].replace("\\\n", " ").split()
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_image_defaults_to_closed_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's own settings are prod with a rate limit and the internal port; with them
    alone Beacon refuses to start for want of keys, and starts once keys are given."""
    env = runtime_env()
    assert env["BEACON_ENV"] == "prod" and env["BEACON_INTERNAL_PORT"] == "9090"
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^EXPOSE 8000 9090$", text, flags=re.M)
    assert re.search(r'^ENTRYPOINT \["beacon-entrypoint"\]$', text, flags=re.M)
    assert "deploy/entrypoint.sh /usr/local/bin/beacon-entrypoint" in text
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert "!deploy/entrypoint.sh" in ignore.splitlines()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BEACON_CANARY", "per-container-canary-0001")
    with pytest.raises(ValidationError, match="BEACON_ADMISSION__API_KEY_SHA256"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("BEACON_ADMISSION__API_KEY_SHA256", f'["{"ab" * 32}"]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admission.rate_per_s is not None and settings.internal_port == 9090


def run_entrypoint(env: dict[str, str]) -> str:
    """The BEACON_CANARY a command started by the image's entrypoint sees."""
    bin_dir = str(Path(sys.executable).parent)
    command = [
        "sh", str(DEPLOY / "entrypoint.sh"),
        sys.executable, "-c", "import os; print(os.environ['BEACON_CANARY'])",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


def test_the_entrypoint_generates_a_canary_per_container() -> None:
    """Without BEACON_CANARY each container gets a fresh canary that prod settings accept;
    a configured one is kept."""
    first, second = run_entrypoint({}), run_entrypoint({"BEACON_CANARY": ""})
    assert first != second and first.startswith("BEACON-CANARY-") and len(first) == 46
    prod = {"env": "prod", "admission": {"allow_anonymous_in_prod": True, "rate_per_s": 1}}
    assert Settings(_env_file=None, canary=first, **prod).canary.get_secret_value() == first  # type: ignore[call-arg, arg-type]
    assert run_entrypoint({"BEACON_CANARY": "chosen-canary-42"}) == "chosen-canary-42"


def test_redis_manifest_serves_the_configured_state_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kustomization ships a Redis whose Service is what the ConfigMap points replicas at,
    with an eviction policy that only evicts keys that expire."""
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "redis.yaml").read_text()))
    statefulset, service = (
        next(doc for doc in documents if doc["kind"] == kind) for kind in ("StatefulSet", "Service")
    )
    assert "redis.yaml" in k8s("kustomization.yaml")["resources"]
    for key, value in {
        **k8s("configmap.yaml")["data"],
        **k8s("secret.example.yaml")["stringData"],
    }.items():
        monkeypatch.setenv(key, value)
    state = Settings(_env_file=None).state  # type: ignore[call-arg]
    host_port = state.url.get_secret_value().removeprefix("redis://").split("/")[0]
    assert (state.backend, host_port) == ("redis", f"{service['metadata']['name']}:6379")
    args = statefulset["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert deployment_replicas() >= 2
    build = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").split("AS runtime", 1)[0]
    assert "pip install '.[redis]'" in build  # the image can talk to the Redis it is told to


def deployment_replicas() -> int:
    replicas: int = k8s("hpa.yaml")["spec"]["minReplicas"]
    return min(replicas, k8s("deployment.yaml")["spec"]["replicas"])
