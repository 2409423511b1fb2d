"""Revocation (RFC 7009) and introspection (RFC 7662) of SMART tokens: refresh tokens by their
grant in the database, access tokens by their signed claims and the revocation list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import NotAuthenticated
from core.identity.revocation import TokenRevocations
from core.identity.smart.apps import app_by_client_id
from core.identity.smart.models import SmartApp, SmartGrantRecord
from core.identity.smart.tokens import decode_smart_token, principal_from_claims
from core.identity.tokens import hash_opaque_token
from core.settings import Settings


async def revoke_token(
    *, session: AsyncSession, app: SmartApp, token: str, settings: Settings, revocations: TokenRevocations
) -> None:
    """Ends a refresh token's grant (its access tokens too) or one access token of this app.
    Unknown tokens are ignored, as RFC 7009 asks (the answer is the same either way)."""
    record = await session.scalar(
        select(SmartGrantRecord).where(SmartGrantRecord.refresh_hash == hash_opaque_token(token or "-"))
    )
    if record is not None and record.app_id == app.id:
        await revoke_grant(session, record, settings=settings, revocations=revocations)
        audit.record(
            session,
            actor=None,
            action="smart.revoke",
            resource_type="smart_grant",
            resource_id=record.id,
            patient_id=record.patient_id,
            detail={"client_id": app.client_id, "token_type": "refresh_token"},
        )
        return
    try:
        claims = decode_smart_token(token, settings=settings)
    except jwt.InvalidTokenError:
        return
    if claims.get("client_id") != app.client_id:
        return
    await revocations.revoke(str(claims["jti"]), until=_expiry(claims))
    audit.record(
        session,
        actor=None,
        action="smart.revoke",
        resource_type="smart_grant",
        resource_id=claims.get("gid"),
        detail={"client_id": app.client_id, "token_type": "access_token"},
    )


async def revoke_grant(
    session: AsyncSession, record: SmartGrantRecord, *, settings: Settings, revocations: TokenRevocations
) -> None:
    """Ends a grant: its refresh token now, its access tokens through the revocation list."""
    record.revoked_at = utc_now()
    record.refresh_hash = record.previous_refresh_hash = None
    await session.flush()
    # Access tokens already issued under the grant are refused for the rest of their lifetime.
    until = utc_now() + timedelta(seconds=settings.access_token_ttl_s + 60)
    await revocations.revoke_family(record.id, until=until)


def _expiry(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)


async def introspect_token(
    *,
    session: AsyncSession,
    token: str,
    client_id: str | None,
    settings: Settings,
    revocations: TokenRevocations,
) -> dict[str, Any]:
    """RFC 7662: whether `token` is active and what it grants. A client (`client_id`) learns only
    about its own tokens; an administrator (`client_id` None) about any."""
    inactive = {"active": False}
    record = await session.scalar(
        select(SmartGrantRecord).where(SmartGrantRecord.refresh_hash == hash_opaque_token(token or "-"))
    )
    if record is not None:
        app = await session.get(SmartApp, record.app_id)
        now = utc_now()
        if (
            app is None
            or not app.is_active
            or (client_id is not None and app.client_id != client_id)
            or record.revoked_at is not None
            or record.refresh_expires_at is None
            or record.refresh_expires_at <= now
        ):
            return inactive
        body: dict[str, Any] = {
            "active": True,
            "token_type": "refresh_token",
            "client_id": app.client_id,
            "scope": record.scope,
            "sub": str(record.user_id),
            "exp": int(record.refresh_expires_at.timestamp()),
        }
        return body | ({"patient": str(record.patient_id)} if record.patient_id else {})
    try:
        claims = decode_smart_token(token, settings=settings)
    except jwt.InvalidTokenError:
        return inactive
    if client_id is not None and claims.get("client_id") != client_id:
        return inactive
    try:
        principal = principal_from_claims(claims)
    except NotAuthenticated:
        return inactive
    if await revocations.refusal(principal) is not None:
        return inactive
    if await app_by_client_id(session, str(claims.get("client_id"))) is None:
        return inactive
    body = {
        "active": True,
        "token_type": "Bearer",
        "client_id": claims["client_id"],
        "scope": claims["scope"],
        "sub": claims["sub"],
        "iss": claims["iss"],
        "aud": claims["aud"],
        "exp": claims["exp"],
        "iat": claims["iat"],
    }
    return body | ({"patient": claims["patient"]} if "patient" in claims else {})
