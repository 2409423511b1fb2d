"""The long-lived resources of one process, opened at start and closed at shutdown.

The API's lifespan, the ingest worker and the background worker each own one `Resources`;
nothing here is created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.audit.keys import AuditKeyring
from core.bus import Bus, create_bus
from core.db import create_engine
from core.identity.revocation import TokenRevocations, create_revocation_store
from core.rate_limit import RateLimiter, create_rate_limiter
from core.sessions import create_sessionmaker
from core.settings import Settings


@dataclass(slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    rate_limiter: RateLimiter
    revocations: TokenRevocations
    audit_keys: AuditKeyring

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Creates clients; connections are made lazily, on first use."""
        engine = create_engine(settings.effective_database_url)
        redis_url, prefix = settings.redis_url, settings.redis_key_prefix
        audit_keys = AuditKeyring.from_settings(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine, audit_keys=audit_keys),
            bus=create_bus(redis_url=redis_url, key_prefix=prefix),
            rate_limiter=create_rate_limiter(redis_url=redis_url, key_prefix=prefix),
            revocations=create_revocation_store(redis_url=redis_url, key_prefix=prefix),
            audit_keys=audit_keys,
        )

    @property
    def broker_url(self) -> str:
        """The MQTT broker this process talks to: the configured one or the embedded one."""
        s = self.settings
        return s.mqtt_url or f"mqtt://{s.embedded_mqtt_host}:{s.embedded_mqtt_port}"

    async def close(self) -> None:
        """Closes every client, even when one of them fails to close."""
        try:
            await self.bus.close()
            await self.rate_limiter.close()
            await self.revocations.close()
        finally:
            await self.engine.dispose()
