"""Circuit breakers with timeouts for calls to outside providers (SMTP, SMS, webhooks, payments).

Each provider gets its own breaker. Closed: calls pass, each bounded by `timeout_s`. After
`failure_threshold` consecutive failures (timeouts included) it opens: calls fail at once with
CircuitOpen for `reset_after_s`, so a provider that hangs holds up nobody. Then it is half-open:
one trial call goes through; success closes it, failure opens it again.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

T = TypeVar("T")


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(RuntimeError):
    """The provider failed repeatedly; calls are refused until the breaker tries it again."""

    def __init__(self, name: str, retry_in_s: float) -> None:
        super().__init__(
            f"circuit '{name}' is open after repeated failures; next trial in {retry_in_s:.0f} s"
        )
        self.name = name
        self.retry_in_s = retry_in_s


class ProviderTimeout(TimeoutError):
    """The provider did not answer within the breaker's timeout."""


@dataclass(slots=True)
class BreakerCounts:
    calls: int = 0
    successes: int = 0
    failures: int = 0
    timeouts: int = 0
    rejected: int = 0


@dataclass(slots=True)
class CircuitBreaker:
    """One provider's breaker; `await breaker.call(lambda: send(...))`."""

    name: str
    timeout_s: float = 10.0
    failure_threshold: int = 5
    reset_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    counts: BreakerCounts = field(default_factory=BreakerCounts)
    _consecutive_failures: int = 0
    _opened_at: float = 0.0
    _trial_running: bool = False

    def _admit(self) -> None:
        if self.state is BreakerState.OPEN:
            waited = self.clock() - self._opened_at
            if waited < self.reset_after_s:
                self.counts.rejected += 1
                raise CircuitOpen(self.name, self.reset_after_s - waited)
            self.state = BreakerState.HALF_OPEN
        if self.state is BreakerState.HALF_OPEN:
            # Only one trial at a time: the others are refused as if the breaker were still open.
            if self._trial_running:
                self.counts.rejected += 1
                raise CircuitOpen(self.name, 0)
            self._trial_running = True

    async def call(self, action: Callable[[], Awaitable[T]]) -> T:
        """Runs `action` under the timeout if the breaker admits it; records the outcome."""
        self._admit()
        self.counts.calls += 1
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await action()
        except TimeoutError as error:
            self.counts.timeouts += 1
            self._failed()
            raise ProviderTimeout(f"{self.name} did not answer within {self.timeout_s:g} s") from error
        except Exception:
            self._failed()
            raise
        except BaseException:
            # Cancelled from outside: says nothing about the provider.
            self._trial_running = False
            raise
        self._succeeded()
        return result

    def _failed(self) -> None:
        self.counts.failures += 1
        self._consecutive_failures += 1
        self._trial_running = False
        if self.state is BreakerState.HALF_OPEN or self._consecutive_failures >= self.failure_threshold:
            self.state = BreakerState.OPEN
            self._opened_at = self.clock()

    def _succeeded(self) -> None:
        self.counts.successes += 1
        self._consecutive_failures = 0
        self._trial_running = False
        self.state = BreakerState.CLOSED


class BreakerMetrics(Collector):
    """Exports the breakers' states and counters to a Prometheus registry, read at scrape time."""

    def __init__(self, breakers: Callable[[], list[CircuitBreaker]]) -> None:
        self._breakers = breakers

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        state = GaugeMetricFamily(
            "ownat_circuit_open", "1 while the provider's breaker is open or half-open", labels=["provider"]
        )
        calls = CounterMetricFamily(
            "ownat_circuit_calls", "Calls through the breaker, by outcome", labels=["provider", "outcome"]
        )
        for breaker in self._breakers():
            state.add_metric([breaker.name], 0 if breaker.state is BreakerState.CLOSED else 1)
            c = breaker.counts
            for outcome, value in (
                ("success", c.successes),
                ("failure", c.failures - c.timeouts),
                ("timeout", c.timeouts),
                ("rejected", c.rejected),
            ):
                calls.add_metric([breaker.name, outcome], value)
        yield state
        yield calls

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self)
