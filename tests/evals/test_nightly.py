"""The nightly CronJob runs suites the harness knows, against a target, keeping its reports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from evals.harness.suites import suite_names

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "eval-cronjob.yaml"


def test_cronjob_runs_known_suites_and_keeps_reports_on_a_volume() -> None:
    """Every suite the CronJob names exists, the live ones get a target, and reports persist."""
    cronjob, claim = yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8"))
    assert (cronjob["kind"], claim["kind"]) == ("CronJob", "PersistentVolumeClaim")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    script = pod["containers"][0]["args"][0]
    suites = re.findall(r"^\s*run (\w+)", script, flags=re.MULTILINE)
    assert {"regression", "bitext", "banking77", "banking77_heldout"} == set(suites)
    assert set(suites) <= set(suite_names())
    assert "--target" in script and "beacon eval run" in script
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["reports"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
