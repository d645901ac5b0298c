"""Eval reports: the JSON document and its Markdown, HTML and JUnit renderings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evals.harness.reports.junit import render_junit
from evals.harness.reports.markdown import render_markdown
from evals.harness.reports.page import render_html

REPORT_FILES = {
    "json": "report.json",
    "markdown": "report.md",
    "html": "report.html",
    "junit": "junit.xml",
}


def write_reports(report: Mapping[str, Any], directory: Path) -> dict[str, Path]:
    """Write every report format into ``directory``; return the paths by format."""
    directory.mkdir(parents=True, exist_ok=True)
    texts = {
        "json": json.dumps(report, indent=1, ensure_ascii=False) + "\n",
        "markdown": render_markdown(report),
        "html": render_html(report),
        "junit": render_junit(report),
    }
    paths = {}
    for kind, text in texts.items():
        path = directory / REPORT_FILES[kind]
        path.write_text(text, encoding="utf-8")
        paths[kind] = path
    return paths
