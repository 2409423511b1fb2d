"""Ports for the servers tests start (api instances, brokers, databases): one choice for all.

A port is taken below Linux's ephemeral range (32768-60999). Outgoing connections take their local
ports from that range, so a port chosen there (as binding to port 0 does) can be taken by another
test's client between the probe and the server's own bind: the server then fails with "address
already in use" while a health check may answer from whoever holds it.
"""

from __future__ import annotations

import random
import socket

HOST = "127.0.0.1"
LOWEST, HIGHEST = 20_000, 32_000
_random = random.SystemRandom()  # the xdist workers must not draw the same sequence


def free_port() -> int:
    """A loopback port nothing listens on right now, outside the ephemeral range."""
    for _ in range(1000):
        port = _random.randrange(LOWEST, HIGHEST)
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue  # taken: draw again
            return port
    raise RuntimeError(f"no free port between {LOWEST} and {HIGHEST}")
