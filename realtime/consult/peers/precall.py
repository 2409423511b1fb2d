"""The pre-call check as a service: who may start one, how often, and for how long."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import require_role
from core.db import utc_now
from core.errors import NotFound, RateLimited
from core.principal import Principal, Role
from core.rate_limit import RateLimiter
from realtime.consult.peers.echo import EchoPeer
from realtime.consult.peers.registry import PeerRegistry
from realtime.consult.peers.schemas import PeerAnswer, SessionOffer
from realtime.consult.peers.settings import PeerSettings

RESOURCE = "precall_check"
PRECALL_ROLES = frozenset({Role.PATIENT, Role.CLINICIAN})


async def start_precall(
    *,
    session: AsyncSession,
    actor: Principal,
    registry: PeerRegistry,
    limiter: RateLimiter,
    settings: PeerSettings,
    offer: SessionOffer,
) -> PeerAnswer:
    """Answers the browser's offer with an echo peer that hangs up after the configured time."""
    require_role(session, actor, PRECALL_ROLES, action="start", resource_type=RESOURCE)
    decision = await limiter.hit(
        f"precall:{actor.user_id}", limit=settings.precall_per_window, window_s=settings.precall_window_s
    )
    if not decision.allowed:
        raise RateLimited(
            f"You have run {settings.precall_per_window} checks recently; "
            f"try again in {decision.retry_after_s} seconds.",
            retry_after_s=decision.retry_after_s,
        )
    expires_at = utc_now() + timedelta(seconds=settings.precall_duration_s)
    peer = EchoPeer(owner_id=actor.user_id, expires_at=expires_at, ice_urls=settings.consult_peer_ice_urls)
    registry.admit(peer, lifetime_s=settings.precall_duration_s)
    try:
        sdp = await peer.answer(offer.sdp)
    except BaseException:
        await registry.close(peer.id)
        raise

    @peer.connection.on("connectionstatechange")
    def _hung_up() -> None:
        # The browser left or its network failed: free the place now rather than at expiry.
        if peer.state in ("failed", "closed"):
            registry.close_soon(peer.id)

    audit.record(
        session,
        actor=actor,
        action="start",
        resource_type=RESOURCE,
        resource_id=peer.id,
        patient_id=actor.patient_id,
    )
    return PeerAnswer(peer_id=peer.id, sdp=sdp, expires_at=expires_at)


async def stop_precall(*, actor: Principal, registry: PeerRegistry, peer_id: uuid.UUID) -> None:
    """Hangs up the caller's own check; NotFound for anyone else's, so ids reveal nothing."""
    peer = registry.get(peer_id)
    if not isinstance(peer, EchoPeer) or peer.owner_id != actor.user_id:
        raise NotFound(f"There is no pre-call check {peer_id} of yours running.")
    await registry.close(peer_id)
