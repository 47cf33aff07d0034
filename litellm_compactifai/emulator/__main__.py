"""``python -m litellm_compactifai.emulator``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._app import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m litellm_compactifai.emulator",
        description="Offline emulator of the CompactifAI API (OpenAI-compatible, /v1).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0 = any)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this bearer token (repeatable; default: any non-empty token)",
    )
    parser.add_argument(
        "--chunk-delay",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause between streamed chunks (default 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    serve(host=args.host, port=args.port, api_keys=args.api_keys, chunk_delay=args.chunk_delay)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
