"""``beacon``: serve, build the index, run the upstream simulator, evals, drills, benchmarks.

``beacon serve`` and ``beacon index`` are the product; the other commands are tools from
``evals/``, imported only when one of them is asked for, so a serving process never loads them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from service.settings import Settings

Handler = Callable[[argparse.Namespace], int]
PRODUCT_COMMANDS = frozenset({"serve", "index"})


def run_app(app: ASGIApp, settings: Settings, *, host: str | None, port: int | None) -> None:
    """Serve ``app`` the way production does (uvloop, httptools, no access log)."""
    import uvicorn

    uvicorn.run(
        app,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,  # the canonical ask_completed line is the access log
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


def _serve(args: argparse.Namespace) -> int:
    from service.app import create_app
    from service.settings import Settings

    settings = Settings()
    run_app(create_app(settings), settings, host=args.host, port=args.port)
    return 0


def _index_build(args: argparse.Namespace) -> int:
    from rag.index import build_index
    from rag.knowledge import load_knowledge_base
    from service.settings import Settings
    from service.tools.orders_db import ORDERS_DB_NAME, build_orders_db

    settings = Settings()
    options = settings.retrieval
    kb = load_knowledge_base(args.kb_dir or options.kb_dir)
    index_dir = args.index_dir or options.index_dir
    embeddings = args.embeddings or options.embeddings
    manifest = build_index(kb, index_dir=index_dir, embeddings_name=embeddings)
    counts = ", ".join(f"{key}={value}" for key, value in manifest.counts.items())
    sys.stdout.write(f"built {index_dir} for {kb.version} ({manifest.embeddings}: {counts})\n")
    orders_db = settings.tools.orders_db or Path(index_dir) / ORDERS_DB_NAME
    sys.stdout.write(f"built {orders_db} ({build_orders_db(orders_db)} demo orders)\n")
    return 0


def _upstream(args: argparse.Namespace) -> int:
    from evals.upstream.config import SimulatorConfig
    from evals.upstream.server import run

    config = SimulatorConfig(ttft_ms=args.ttft_ms, tokens_per_second=args.tokens_per_second)
    run(host=args.host, port=args.port, config=config)
    return 0


def build_parser(*, tools: bool = True) -> argparse.ArgumentParser:
    """The ``beacon`` parser; ``tools=False`` leaves out every command that lives in evals/."""
    parser = argparse.ArgumentParser(prog="beacon", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the /ask API")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_serve)

    index = commands.add_parser("index", help="manage the FAQ index")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    build = index_commands.add_parser("build", help="(re)build the FAISS index from the KB")
    build.add_argument("--kb-dir", type=Path, default=None)
    build.add_argument("--index-dir", type=Path, default=None)
    build.add_argument("--embeddings", choices=["hashing", "minilm", "openai"], default=None)
    build.set_defaults(handler=_index_build)

    if tools:
        _add_tool_commands(commands)
    return parser


def _add_tool_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    upstream = commands.add_parser("upstream", help="run the OpenAI-compatible upstream simulator")
    upstream.add_argument("--host", default="127.0.0.1")
    upstream.add_argument("--port", type=int, default=8100)
    upstream.add_argument("--ttft-ms", type=float, default=50.0)
    upstream.add_argument("--tokens-per-second", type=float, default=50.0)
    upstream.set_defaults(handler=_upstream)

    from evals.bench.cli import add_bench_command

    add_bench_command(commands)

    from evals.harness.cli import add_eval_command

    add_eval_command(commands)

    from evals.cost_cli import add_cost_command

    add_cost_command(commands)

    from evals.drills.cli import add_drill_command

    add_drill_command(commands)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    product = bool(argv) and argv[0] in PRODUCT_COMMANDS
    args = build_parser(tools=not product).parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
