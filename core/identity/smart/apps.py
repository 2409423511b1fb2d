"""Registering SMART apps (administrators only): what they are, where they return, what they may ask."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import require_role
from core.db import utc_now
from core.errors import NotFound
from core.identity.revocation import TokenRevocations
from core.identity.smart.assertions import check_key_set
from core.identity.smart.models import ClientType, SmartApp, SmartGrantRecord
from core.identity.smart.scopes import check_scopes
from core.identity.tokens import hash_opaque_token
from core.principal import InvalidScope, Level, Principal, Role, parse_clinical, split_scope


class AppCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    client_type: ClientType
    redirect_uris: list[str] = Field(default_factory=list, max_length=10)
    scopes: str = Field(min_length=1, max_length=2000)
    launch_url: str | None = Field(default=None, max_length=2000)
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = Field(default=None, max_length=2000)

    @field_validator("redirect_uris")
    @classmethod
    def _absolute_urls(cls, uris: list[str]) -> list[str]:
        for uri in uris:
            _check_url(uri, "redirect_uris")
            if urlsplit(uri).fragment:
                raise ValueError("a redirect URI may not hold a fragment")
        return uris

    @field_validator("launch_url", "jwks_url")
    @classmethod
    def _absolute_url(cls, url: str | None) -> str | None:
        if url is not None:
            _check_url(url, "url")
        return url

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: str) -> str:
        try:
            check_scopes(split_scope(scopes))
        except InvalidScope as error:
            raise ValueError(str(error)) from None
        return " ".join(split_scope(scopes))

    @field_validator("jwks")
    @classmethod
    def _key_set(cls, jwks: dict[str, Any] | None) -> dict[str, Any] | None:
        if jwks is not None:
            check_key_set(jwks)
        return jwks

    @model_validator(mode="after")
    def _fits_its_type(self) -> AppCreate:
        levels = {c.level for c in (parse_clinical(s) for s in split_scope(self.scopes)) if c is not None}
        if self.client_type is ClientType.BACKEND:
            if not (self.jwks or self.jwks_url):
                raise ValueError("a backend service registers its public keys: jwks or jwks_url")
            if levels - {Level.SYSTEM}:
                raise ValueError("a backend service may hold system/ scopes only")
            if any((c := parse_clinical(s)) and c.permissions - {"r", "s"} for s in split_scope(self.scopes)):
                raise ValueError("system/ scopes are read-only here (.rs)")
        else:
            if not self.redirect_uris:
                raise ValueError("an app signing users in needs at least one redirect URI")
            if Level.SYSTEM in levels:
                raise ValueError("system/ scopes are for backend services only")
        return self


class AppRead(BaseModel):
    id: uuid.UUID
    client_id: str
    name: str
    client_type: ClientType
    redirect_uris: list[str]
    scopes: str
    launch_url: str | None
    jwks_url: str | None
    has_jwks: bool
    is_active: bool

    @classmethod
    def of(cls, app: SmartApp) -> AppRead:
        return cls(
            id=app.id,
            client_id=app.client_id,
            name=app.name,
            client_type=app.client_type,
            redirect_uris=list(app.redirect_uris),
            scopes=app.scopes,
            launch_url=app.launch_url,
            jwks_url=app.jwks_url,
            has_jwks=app.jwks is not None,
            is_active=app.is_active,
        )


class AppCreated(AppRead):
    # Shown once: only its hash is kept.
    client_secret: str | None = None


def _check_url(url: str, field: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{field}: '{url}' is not an absolute http(s) URL")
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"{field}: '{url}' must use https (plain http only on loopback)")


async def register_app(
    *, session: AsyncSession, actor: Principal, app: AppCreate, client_id: str | None = None
) -> AppCreated:
    """Registers an app; a confidential app's secret is returned this once."""
    require_role(session, actor, [Role.ADMIN], action="smart.app.register", resource_type="smart_app")
    secret = secrets.token_urlsafe(32) if app.client_type is ClientType.CONFIDENTIAL else None
    row = SmartApp(
        client_id=client_id or secrets.token_urlsafe(18),
        name=app.name,
        client_type=app.client_type,
        redirect_uris=app.redirect_uris,
        scopes=app.scopes,
        launch_url=app.launch_url,
        secret_hash=hash_opaque_token(secret) if secret else None,
        jwks=app.jwks,
        jwks_url=app.jwks_url,
        is_active=True,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="smart.app.register",
        resource_type="smart_app",
        resource_id=row.id,
        detail={"client_id": row.client_id, "name": row.name, "scopes": row.scopes},
    )
    return AppCreated(**AppRead.of(row).model_dump(), client_secret=secret)


async def list_apps(*, session: AsyncSession, actor: Principal) -> list[AppRead]:
    """Every registered app, newest first (administrators)."""
    require_role(session, actor, [Role.ADMIN], action="smart.app.list", resource_type="smart_app")
    rows = await session.scalars(select(SmartApp).order_by(SmartApp.created_at.desc()))
    return [AppRead.of(row) for row in rows]


async def launchable_apps(*, session: AsyncSession) -> list[AppRead]:
    """Active apps a clinician may open from a chart (EHR launch): those with a launch URL."""
    rows = await session.scalars(
        select(SmartApp)
        .where(SmartApp.is_active.is_(True), SmartApp.launch_url.is_not(None))
        .order_by(SmartApp.name)
    )
    return [AppRead.of(row) for row in rows]


async def set_app_active(
    *,
    session: AsyncSession,
    actor: Principal,
    app_id: uuid.UUID,
    active: bool,
    revocations: TokenRevocations,
    access_token_ttl_s: int,
) -> AppRead:
    """Suspends or restores an app. Suspending ends every grant it holds at once: its access and
    refresh tokens stop working, and it gets no new token until restored (users consent again)."""
    require_role(session, actor, [Role.ADMIN], action="smart.app.update", resource_type="smart_app")
    row = await session.get(SmartApp, app_id)
    if row is None:
        raise NotFound("There is no app with this id.")
    row.is_active = active
    if not active:
        until = utc_now() + timedelta(seconds=access_token_ttl_s + 60)
        grants = await session.scalars(
            select(SmartGrantRecord).where(
                SmartGrantRecord.app_id == row.id, SmartGrantRecord.revoked_at.is_(None)
            )
        )
        # A backend service's tokens are issued under the app's own id.
        for grant_id in [row.id, *(grant.id for grant in grants)]:
            await revocations.revoke_family(grant_id, until=until)
        await session.execute(
            update(SmartGrantRecord)
            .where(SmartGrantRecord.app_id == row.id, SmartGrantRecord.revoked_at.is_(None))
            .values(revoked_at=utc_now(), refresh_hash=None, previous_refresh_hash=None)
        )
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="smart.app.update",
        resource_type="smart_app",
        resource_id=row.id,
        detail={"is_active": active},
    )
    return AppRead.of(row)


async def app_by_client_id(session: AsyncSession, client_id: str) -> SmartApp | None:
    """The active app registered as `client_id`, or None."""
    if not client_id or len(client_id) > 64:
        return None
    return await session.scalar(
        select(SmartApp).where(SmartApp.client_id == client_id, SmartApp.is_active.is_(True))
    )
