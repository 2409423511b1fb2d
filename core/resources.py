"""The long-lived resources of one process, opened at start and closed at shutdown.

The API's lifespan, the ingest worker and the background worker each own one `Resources`;
nothing here is created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.audit import AuditKeyring
from core.bus import Bus, create_bus
from core.db import create_engine
from core.identity import (
    ANNOUNCER_KEY,
    SessionAnnouncer,
    TokenRevocations,
    create_revocation_store,
    generation_loader,
)
from core.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from core.redis_client import create_redis
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
    # Shared by the rate limiter and the session state (None in the embedded mode).
    redis: Redis | None = None

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Creates clients; connections are made lazily, on first use."""
        # No code on these sessions sends SQL past SQLAlchemy, so a read needs no BEGIN (core.db).
        engine = create_engine(settings.effective_database_url, begin_lazily=True)
        redis_url, prefix = settings.redis_url, settings.redis_key_prefix
        audit_keys = AuditKeyring.from_settings(settings)
        redis = create_redis(settings)
        bus = create_bus(redis_url=redis_url, key_prefix=prefix)
        # Generations are read on a plain session: nothing is audited or announced by reading them.
        revocations = create_revocation_store(
            redis_client=redis,
            key_prefix=prefix,
            load_generation=generation_loader(create_sessionmaker(engine, audit_keys=audit_keys)),
        )
        announcer = SessionAnnouncer(
            revocations=revocations, bus=bus, access_token_ttl_s=settings.access_token_ttl_s
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine, audit_keys=audit_keys, info={ANNOUNCER_KEY: announcer}),
            bus=bus,
            rate_limiter=RedisRateLimiter(redis, prefix) if redis is not None else MemoryRateLimiter(),
            revocations=revocations,
            audit_keys=audit_keys,
            redis=redis,
        )

    async def close(self) -> None:
        """Closes every client, even when one of them fails to close."""
        try:
            await self.bus.close()
            await self.rate_limiter.close()
            await self.revocations.close()
            if self.redis is not None:
                await self.redis.aclose()
        finally:
            await self.engine.dispose()
