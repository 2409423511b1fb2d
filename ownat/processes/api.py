"""`ownat api`: the FastAPI app (REST, WebSocket hub, signalling, web pages) under uvicorn."""

from __future__ import annotations

import argparse
import socket


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares this command's options."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="share the port with other `ownat api` processes on this host (SO_REUSEPORT)",
    )


def run(args: argparse.Namespace) -> int:
    """Serves until interrupted; returns the process exit status."""
    import uvicorn

    from api.app import create_app
    from core import tracing
    from core.heap import freeze_startup_heap
    from core.logging import configure_logging
    from core.settings import load_settings
    from ownat.uvicorn_config import uvicorn_config

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    tracing.configure(settings, process="api")  # before anything traced is built
    app = create_app(settings)
    freeze_startup_heap()
    config = uvicorn_config(
        app, host=args.host, port=args.port, websocket_compression=settings.websocket_compression
    )
    sockets = [reusable_socket(args.host, args.port)] if args.reuse_port else None
    uvicorn.Server(config).run(sockets=sockets)
    return 0


def reusable_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too (Linux SO_REUSEPORT): the kernel spreads
    new connections over them, so several api processes share one port without a proxy."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock
