"""The apps a user let in: what each may still do, and ending its access (the user's own grants only)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import NotFound
from core.identity.revocation import TokenRevocations
from core.identity.smart.authorize import ScopeWords
from core.identity.smart.models import SmartApp, SmartGrantRecord
from core.identity.smart.scopes import describe
from core.identity.smart.token_status import revoke_grant
from core.principal import Principal, split_scope
from core.settings import Settings


class ConnectedApp(BaseModel):
    grant_id: uuid.UUID
    app_name: str
    scopes: list[ScopeWords]
    patient_id: uuid.UUID | None
    granted_at: datetime
    # Until when it may renew its access without asking again (offline_access), if it may.
    renewable_until: datetime | None


async def connected_apps(
    *, session: AsyncSession, actor: Principal, settings: Settings
) -> list[ConnectedApp]:
    """The caller's grants that still give access: a refresh token, or an access token not yet expired."""
    now = utc_now()
    rows = await session.execute(
        select(SmartGrantRecord, SmartApp.name)
        .join(SmartApp, SmartApp.id == SmartGrantRecord.app_id)
        .where(
            SmartGrantRecord.user_id == actor.user_id,
            SmartGrantRecord.revoked_at.is_(None),
            or_(
                SmartGrantRecord.refresh_expires_at > now,
                SmartGrantRecord.created_at > now - timedelta(seconds=settings.access_token_ttl_s),
            ),
        )
        .order_by(SmartGrantRecord.created_at.desc())
    )
    return [
        ConnectedApp(
            grant_id=grant.id,
            app_name=name,
            scopes=[ScopeWords(scope=s, words=describe(s)) for s in split_scope(grant.scope)],
            patient_id=grant.patient_id,
            granted_at=grant.created_at,
            renewable_until=grant.refresh_expires_at if grant.refresh_hash else None,
        )
        for grant, name in rows
    ]


async def disconnect_app(
    *,
    session: AsyncSession,
    actor: Principal,
    grant_id: uuid.UUID,
    settings: Settings,
    revocations: TokenRevocations,
) -> None:
    """Ends one of the caller's grants: the app's tokens stop working at once."""
    grant = await session.get(SmartGrantRecord, grant_id)
    if grant is None or grant.user_id != actor.user_id or grant.revoked_at is not None:
        raise NotFound("You have no such connected app.")
    await revoke_grant(session, grant, settings=settings, revocations=revocations)
    audit.record(
        session,
        actor=actor,
        action="smart.disconnect",
        resource_type="smart_grant",
        resource_id=grant.id,
        patient_id=grant.patient_id,
    )
