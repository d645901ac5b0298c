"""JUnit XML for CI: one test case per eval case, plus one per gated metric.

Regressed cases and regressed metrics are failures; cases that also failed in the baseline are
reported as skipped (known failures); flaky cases pass with a note. So the CI view agrees with
the gate's exit code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET


def render_junit(report: Mapping[str, Any]) -> str:
    """Render ``report`` as a JUnit XML document."""
    name = f"beacon-eval.{report['suite']['name']}"
    gate = report["gate"]
    suite = ET.Element("testsuite", name=name, time=str(report["run"]["seconds"]))
    failures = skipped = 0
    for record in report["cases"]:
        case = ET.SubElement(suite, "testcase", classname=name, name=record["id"])
        detail = _detail(record)
        status = record["status"]
        if status == "regressed" or (status == "failed" and gate is None):
            failures += 1
            ET.SubElement(case, "failure", message=", ".join(record["failed_checks"])).text = detail
        elif status == "failed":
            skipped += 1
            ET.SubElement(case, "skipped", message="known failure: fails in the baseline too")
        elif status == "flaky":
            ET.SubElement(case, "system-out").text = f"flaky: {record['passes']} passes\n{detail}"
    for metric in (gate or {}).get("regressed_metrics", []):
        case = ET.SubElement(suite, "testcase", classname=name, name=f"metric:{metric['name']}")
        message = f"{metric['current']} is worse than the limit {metric['limit']}"
        ET.SubElement(case, "failure", message=message).text = f"baseline {metric['baseline']}"
        failures += 1
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", "0")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _detail(record: Mapping[str, Any]) -> str:
    first = record["results"][0] if record["results"] else {}
    got = [entry for entry, _ in (first.get("retrieved") or first.get("citations") or [])[:3]]
    return (
        f"question: {record['question']}\n"
        f"expected: {record['expect_faq']} route {record['expect_route']}\n"
        f"got: route {first.get('route')} top {got} error {first.get('error')}\n"
        f"trace_ids: {' '.join(record['trace_ids'])}"
    )
