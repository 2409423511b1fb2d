"""The senders of one worker: an HTTP client, the bus, and one circuit breaker per provider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from core.bus import Bus
from core.circuit_breaker import CircuitBreaker
from core.webhook_targets import normalised_hosts
from notifications.channels import post_webhook, push_in_app, send_email, send_sms
from notifications.delivery import Claimed
from notifications.metrics import WorkerMetrics
from notifications.models import Channel
from notifications.settings import NotificationSettings


class Senders:
    """Sends claimed notifications; outside providers only through their breakers."""

    def __init__(self, *, settings: NotificationSettings, bus: Bus) -> None:
        self.settings = settings
        self.bus = bus
        self.http = httpx.AsyncClient(timeout=settings.provider_timeout_s, follow_redirects=False)
        # Webhooks connect straight to the address judged for them: never through an environment proxy,
        # which would make its own choice of address.
        self.webhook_http = httpx.AsyncClient(
            timeout=settings.provider_timeout_s, follow_redirects=False, trust_env=False
        )
        self.webhook_allowed_hosts = normalised_hosts(settings.webhook_allowed_hosts)
        self.breakers: dict[str, CircuitBreaker] = {}
        # The worker's metrics, its breakers' among them; `ownat worker` registers them.
        self.metrics = WorkerMetrics(lambda: list(self.breakers.values()))

    def breaker(self, provider: str) -> CircuitBreaker:
        """The breaker of `provider` ("smtp", "sms", "webhook:<subscription>"), created on first use."""
        if provider not in self.breakers:
            s = self.settings
            self.breakers[provider] = CircuitBreaker(
                name=provider,
                timeout_s=s.provider_timeout_s,
                failure_threshold=s.breaker_failures,
                reset_after_s=s.breaker_reset_s,
            )
        return self.breakers[provider]

    async def send(self, item: Claimed, *, now: datetime) -> None:
        """Delivers one notification; raises what went wrong."""
        if item.channel is Channel.IN_APP:
            await push_in_app(self.bus, item)
            return
        provider, action = self._provider_call(item, now)
        await self.breaker(provider).call(action)

    def _provider_call(self, item: Claimed, now: datetime) -> tuple[str, Callable[[], Awaitable[None]]]:
        address = item.address or ""
        if item.channel is Channel.EMAIL:
            return "smtp", lambda: send_email(
                settings=self.settings, to=address, subject=item.title, body=item.body
            )
        if item.channel is Channel.SMS:
            return "sms", lambda: send_sms(
                client=self.http, settings=self.settings, to=address, body=item.body
            )
        return f"webhook:{item.subscription_id}", lambda: post_webhook(
            client=self.webhook_http,
            url=address,
            secret=item.secret or "",
            body=item.body,
            event_type=item.event_type,
            delivery_id=item.id,
            now=now,
            allowed_hosts=self.webhook_allowed_hosts,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.webhook_http.aclose()
