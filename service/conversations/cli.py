"""``beacon conversations prune``: delete conversations idle longer than the TTL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


def _prune(args: argparse.Namespace) -> int:
    from service.conversations.builder import open_store
    from service.conversations.store import ConversationStoreUnavailable
    from service.settings import Settings

    del args
    settings = Settings().conversations

    async def prune() -> int:
        store = open_store(settings)
        try:
            return await store.prune()
        finally:
            await store.aclose()

    try:
        pruned = asyncio.run(prune())
    except ConversationStoreUnavailable as exc:
        sys.stderr.write(f"conversation store unavailable ({exc}): {settings.path}\n")
        return 1
    sys.stdout.write(f"pruned {pruned} conversations idle longer than {settings.ttl_s:.0f} s\n")
    return 0


def add_conversations_command(commands: Any) -> None:
    """Register ``beacon conversations`` on the CLI's subcommands."""
    conversations = commands.add_parser("conversations", help="manage stored conversations")
    actions = conversations.add_subparsers(dest="conversations_command", required=True)
    prune = actions.add_parser("prune", help="delete conversations idle longer than the TTL")
    prune.set_defaults(handler=_prune)
