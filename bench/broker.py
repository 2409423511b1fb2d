"""A private Mosquitto for a benchmark, configured as `deploy/mosquitto/mosquitto.conf` queues.

The machine's own Mosquitto may run with the default `max_queued_messages` (1,000): past it, the
broker drops what it holds for a subscriber that is behind, so a benchmark past capacity would count
the broker's losses as Ownat's. A private one on a free loopback port takes the deployment's limit
(read from that file, so the two cannot drift apart), with anonymous access and no persistence.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
DEPLOYED_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto" / "mosquitto.conf"
START_GUARD_S = 10.0


def deployed_queue_limit() -> int:
    """The deployment's `max_queued_messages`."""
    found = re.search(r"^max_queued_messages\s+(\d+)", DEPLOYED_CONFIG.read_text(), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"{DEPLOYED_CONFIG} sets no max_queued_messages")
    return int(found.group(1))


def free_port() -> int:
    with socket.socket() as probe:  # others run brokers and workers on this machine too
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_broker(directory: Path, port: int, *, persistence: bool = False) -> subprocess.Popen[bytes]:
    """Starts Mosquitto on `port` with its configuration and log in `directory`; returns at once."""
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        f"max_queued_messages {deployed_queue_limit()}",
        f"persistence {'true' if persistence else 'false'}",
    ]
    if persistence:
        lines.append(f"persistence_location {directory}/")
    config = directory / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:  # Mosquitto drops to its own user, who must write its directory
        shutil.chown(directory, "mosquitto", "mosquitto")
    with (directory / "mosquitto.log").open("ab") as log:
        return subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def private_broker(directory: Path) -> Iterator[str]:
    """A private broker for the block; yields its `mqtt://` URL once it accepts connections."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = start_broker(directory, port)
    try:
        deadline = time.monotonic() + START_GUARD_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Mosquitto did not start (see {directory}/mosquitto.log)") from None
                time.sleep(0.1)  # a separate process: there is no event to await
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
