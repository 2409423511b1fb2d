"""Circuit breakers against real loopback servers: one that hangs, one that fails, one that recovers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import CollectorRegistry

from core.circuit_breaker import BreakerMetrics, BreakerState, CircuitBreaker, CircuitOpen, ProviderTimeout
from notifications.channels import ProviderRefused
from notifications.channels.webhook import post_webhook
from tests.notifications.servers import HttpRecorder


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _post(client: httpx.AsyncClient, recorder: HttpRecorder) -> None:
    await post_webhook(
        client=client,
        url=recorder.url,
        secret="s",
        body="{}",
        event_type="test",
        delivery_id=uuid.uuid4(),
        now=datetime.now(UTC),
        allowed_hosts=frozenset({"127.0.0.1"}),  # the recorder listens on loopback
    )


async def test_a_hanging_provider_times_out_then_is_not_called_at_all() -> None:
    breaker = CircuitBreaker(name="hangs", timeout_s=0.3, failure_threshold=2, reset_after_s=3600)
    async with HttpRecorder(mode="hang").serving() as recorder, httpx.AsyncClient() as client:
        for _ in range(2):
            with pytest.raises(ProviderTimeout):
                await breaker.call(lambda: _post(client, recorder))
        assert breaker.state is BreakerState.OPEN
        with pytest.raises(CircuitOpen):
            await breaker.call(lambda: _post(client, recorder))
    # The open breaker refused the third call without touching the provider.
    assert len(recorder.requests) == 2
    assert (breaker.counts.timeouts, breaker.counts.rejected) == (2, 1)


async def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(name="flaky", timeout_s=5, failure_threshold=1, reset_after_s=30, clock=clock)
    async with HttpRecorder(status=503).serving() as recorder, httpx.AsyncClient() as client:
        with pytest.raises(ProviderRefused):
            await breaker.call(lambda: _post(client, recorder))
        assert breaker.state is BreakerState.OPEN
        clock.now += 29
        with pytest.raises(CircuitOpen):
            await breaker.call(lambda: _post(client, recorder))
        clock.now += 2
        # The trial fails: open again, for another full period.
        with pytest.raises(ProviderRefused):
            await breaker.call(lambda: _post(client, recorder))
        assert breaker.state is BreakerState.OPEN
        clock.now += 31
        recorder.status = 200
        await breaker.call(lambda: _post(client, recorder))
        assert breaker.state is BreakerState.CLOSED
        await breaker.call(lambda: _post(client, recorder))
    assert len(recorder.requests) == 4


async def test_metrics_show_state_and_outcomes_per_provider() -> None:
    breakers = [CircuitBreaker(name="sms", timeout_s=0.3, failure_threshold=1, reset_after_s=3600)]
    registry = CollectorRegistry()
    BreakerMetrics(lambda: breakers).register(registry)
    async with HttpRecorder(mode="hang").serving() as recorder, httpx.AsyncClient() as client:
        with pytest.raises(ProviderTimeout):
            await breakers[0].call(lambda: _post(client, recorder))
        with pytest.raises(CircuitOpen):
            await breakers[0].call(lambda: _post(client, recorder))
    assert registry.get_sample_value("ownat_circuit_open", {"provider": "sms"}) == 1
    for outcome, expected in (("timeout", 1), ("rejected", 1), ("success", 0)):
        labels = {"provider": "sms", "outcome": outcome}
        assert registry.get_sample_value("ownat_circuit_calls_total", labels) == expected
