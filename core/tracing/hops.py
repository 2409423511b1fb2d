"""The live path's hops, device to dashboard, as Prometheus histograms measure them.

The ingest worker (`devices.ingest.metrics`) and the hub (`realtime.hub.metrics`) each observe
their own hops; the buckets are shared so that the hops add up on one scale in the dashboard.
"""

from __future__ import annotations

# Milliseconds when healthy, seconds when a process falls behind.
LIVE_HOP_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
