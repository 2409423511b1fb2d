"""The Prometheus endpoint of the long-running workers (`ownat ingest`, `ownat worker`): its two
options and the server that offers a registry on them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `ownat.cli` loads the commands whatever is installed
    from prometheus_client import CollectorRegistry


def add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    """Declares `--metrics-port` and `--metrics-host`."""
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics endpoint")


def serve_metrics(registry: CollectorRegistry, *, port: int | None, host: str) -> Callable[[], None]:
    """Serves `registry` when a port was given (`--metrics-port`); returns what stops it again."""
    if port is None:
        return _nothing_to_stop
    from prometheus_client import start_http_server

    # prometheus_client serves from a daemon thread of its own; nothing here blocks the loop.
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server.shutdown


def _nothing_to_stop() -> None:
    """The stop of an endpoint that was never started."""
