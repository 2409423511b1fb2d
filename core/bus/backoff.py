"""Reconnect delays: capped exponential backoff with full jitter."""

from __future__ import annotations

import random


def reconnect_delay_s(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0 for the first): uniform in [0, min(cap, base * 2^n)]."""
    # Full jitter spreads the reconnects of many api instances after a Redis restart, so they do not
    # all arrive in the same instant; the cap keeps a long outage from stretching the wait without end.
    ceiling_s = min(cap_s, base_s * 2 ** min(attempt, 32))
    return random.uniform(0.0, ceiling_s)  # noqa: S311 - jitter, not a secret
