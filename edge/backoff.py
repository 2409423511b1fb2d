"""Reconnect delays: capped exponential backoff with full jitter.

Full jitter (a uniformly random delay between zero and the capped exponential) spreads the
reconnections of many devices and gateways after a broker restart, instead of having them all
knock at the same moments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before reconnect attempt `n` (0-based): uniform in [0, min(cap, base * 2**n)]."""

    base_s: float = 0.5
    cap_s: float = 30.0
    # Jitter, not cryptography: the default Mersenne Twister is the right tool.
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")

    def ceiling_s(self, attempt: int) -> float:
        """The largest delay attempt `attempt` may wait."""
        # Bound the exponent so a long outage cannot overflow the float.
        return min(self.cap_s, self.base_s * 2.0 ** min(attempt, 62))

    def delay_s(self, attempt: int) -> float:
        """A random delay for attempt `attempt`."""
        return self.rng.uniform(0.0, self.ceiling_s(attempt))
