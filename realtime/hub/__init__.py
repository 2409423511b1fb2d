"""The WebSocket hub: live vitals and alarms from the bus to authorised dashboards.

One `Hub` per api process owns one bus subscription (patterns for vitals and alarms) and a registry
of connections by subscription key. Each `Connection` has a bounded outbound queue, coalesces
deltas per subscription and is resynchronised with a fresh snapshot, or dropped, when it falls
behind, so a slow client never slows the others.
"""

from __future__ import annotations

from realtime.hub.connection import Connection
from realtime.hub.hub import Hub, HubTuning
from realtime.hub.metrics import HubMetrics
from realtime.hub.protocol import serve_connection

__all__ = ["Connection", "Hub", "HubMetrics", "HubTuning", "serve_connection"]
