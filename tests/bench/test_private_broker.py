"""The benchmarks' private Mosquitto: it runs, and queues as the deployment's broker does."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from bench.broker import DEPLOYED_CONFIG, deployed_queue_limit, private_broker


def test_the_queue_limit_is_the_deployments() -> None:
    assert f"max_queued_messages {deployed_queue_limit()}" in DEPLOYED_CONFIG.read_text()
    assert deployed_queue_limit() > 1000  # Mosquitto's default, which drops a worker's backlog


def test_a_private_broker_accepts_connections_and_is_gone_after(tmp_path: Path) -> None:
    with private_broker(tmp_path / "broker") as url:
        address = urlsplit(url)
        socket.create_connection((address.hostname, address.port), timeout=5).close()
        config = (tmp_path / "broker" / "mosquitto.conf").read_text()
        assert f"max_queued_messages {deployed_queue_limit()}" in config
    try:
        socket.create_connection((address.hostname, address.port), timeout=1).close()
    except OSError:
        return
    raise AssertionError("the broker still accepts connections after the block")
