"""``python -m evals.upstream``: serve the OpenAI-compatible upstream simulator."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from evals.upstream.config import Mode, SimulatorConfig
from evals.upstream.server import run


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m evals.upstream", description="OpenAI-compatible upstream simulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument(
        "--ttft-ms",
        type=float,
        default=defaults.ttft_ms,
        help="time to first token (default: %(default)s)",
    )
    parser.add_argument(
        "--tokens-per-second",
        type=float,
        default=defaults.tokens_per_second,
        help="pace of content chunks (default: %(default)s)",
    )
    parser.add_argument(
        "--answer", default=None, help="fixed answer text instead of one derived from each request"
    )
    parser.add_argument(
        "--mode",
        default=defaults.mode.value,
        choices=[mode.value for mode in Mode],
        help="mode of requests that name none (default: %(default)s)",
    )
    parser.add_argument(
        "--unfaithful-rate",
        type=float,
        default=defaults.unfaithful_rate,
        help="share of unfaithful-mode answers that are wrong on purpose (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(
        ttft_ms=args.ttft_ms,
        tokens_per_second=args.tokens_per_second,
        answer=args.answer,
        mode=Mode(args.mode),
        unfaithful_rate=args.unfaithful_rate,
    )
    run(host=args.host, port=args.port, config=config, log_level=args.log_level)


if __name__ == "__main__":
    main()
