"""The deploy kit: alert rules (promtool), scrape config, dashboard, collector, image, manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from service.settings import Settings
from tests.conftest import AppHandle
from tests.deploy.prometheus import DEPLOY, PROMETHEUS_DIR, promtool, render_config
from tests.observability.scrape import scrape_families

ALERTS = {
    "BeaconHighErrorRate", "BeaconSlowFirstToken", "BeaconHighFallbackRate", "BeaconShedding",
    "BeaconCostBurn", "BeaconRefusalSpike", "BeaconEmptyRetrievalSpike", "BeaconNoTraffic",
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


def test_deployment_probes_resources_and_security(beacon: AppHandle) -> None:
    """The Deployment probes routes the app answers, limits resources, runs non-root and
    carries scrape annotations for its container port."""
    deployment = k8s("deployment.yaml")
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    probes = [container[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe")]
    assert probes == ["/healthz", "/readyz"]
    for path in probes:
        assert httpx.get(f"{beacon.url}{path}", timeout=5).status_code == 200, path
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == container["ports"][0]["containerPort"]


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
