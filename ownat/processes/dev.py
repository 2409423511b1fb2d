"""`ownat dev`: the whole platform in one process on the embedded default (composed in `ownat.embedded`)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def run(args: argparse.Namespace) -> int:
    """Serves until interrupted; returns the process exit status."""
    import asyncio

    from core import tracing
    from core.heap import freeze_startup_heap
    from core.logging import configure_logging
    from core.settings import load_settings
    from ownat.embedded import run_embedded

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    tracing.configure(settings, process="dev")  # before anything traced is built
    freeze_startup_heap()
    asyncio.run(run_embedded(settings, host=args.host, port=args.port))
    return 0
