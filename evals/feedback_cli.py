"""``beacon eval feedback export``: thumbs-down answers as regression cases to review."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def add_feedback_command(actions: Any) -> None:
    """Register ``feedback export`` on ``beacon eval``'s subcommand parser."""
    feedback = actions.add_parser("feedback", help="customer feedback on answers")
    commands = feedback.add_subparsers(dest="feedback_command", required=True)
    export = commands.add_parser(
        "export", help="write thumbs-down answers as candidate regression cases (YAML)"
    )
    export.add_argument("--db", type=Path, help="feedback database (default: settings)")
    export.add_argument("--out", type=Path, help="YAML file to write (default: stdout)")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from service.feedback.export import regression_candidates
    from service.settings import Settings

    db = args.db or Settings().feedback.db_path
    if not db.exists():
        sys.stderr.write(f"beacon eval feedback export: no feedback database at {db}\n")
        return 2
    export = regression_candidates(asyncio.run(_thumbs_down(db)))
    if args.out is None:
        sys.stdout.write(export.text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(export.text, encoding="utf-8")
    note = f"{export.cases} candidate cases" + (f" in {args.out}" if args.out else "")
    if export.missing:
        note += f"; {export.missing} thumbs-down without a recorded answer (expired or unknown)"
    sys.stderr.write(note + "\n")
    return 0


async def _thumbs_down(db: Path) -> list[Any]:
    from service.feedback import SQLiteFeedbackStore

    store = SQLiteFeedbackStore(db)
    try:
        return await store.rated("down")
    finally:
        await store.aclose()
