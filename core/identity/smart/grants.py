"""The token endpoint's grants (authorization code with PKCE, refresh token, client credentials) and
client authentication; revocation and introspection are in `token_status`."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.identity.models import User
from core.identity.revocation import TokenRevocations
from core.identity.smart import assertions
from core.identity.smart.apps import app_by_client_id
from core.identity.smart.errors import OAuthError
from core.identity.smart.keys import signing_key
from core.identity.smart.models import (
    AuthorizationStatus,
    ClientType,
    SmartApp,
    SmartAuthorization,
    SmartGrantRecord,
)
from core.identity.smart.scopes import FHIR_USER, OFFLINE_ACCESS, OPENID, narrow_request
from core.identity.smart.token_status import revoke_grant
from core.identity.smart.tokens import issue_smart_access_token
from core.identity.tokens import hash_opaque_token, new_refresh_token
from core.principal import Level, Principal, Role, SmartGrant, parse_clinical, split_scope
from core.settings import Settings

# The FHIR reference of the signed-in user (Patient/..., Practitioner/...), for `fhirUser`.
FhirUserLookup = Callable[[Principal], Awaitable[str | None]]
ID_TOKEN_TTL_S = 300


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """How a client identified itself at the token, revocation or introspection endpoint."""

    client_id: str | None = None
    client_secret: str | None = None
    assertion_type: str | None = None
    assertion: str | None = None


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    """Where the token endpoint and the FHIR base live, as the caller reached them."""

    token_url: str
    fhir_base_url: str


async def authenticate_client(
    session: AsyncSession, credentials: ClientCredentials, *, token_url: str, used: TokenRevocations
) -> SmartApp:
    """The app calling: a backend service by signed assertion, a confidential app by its secret,
    a public app by its client_id alone (PKCE protects its code). invalid_client (401) otherwise."""
    client_id = credentials.client_id
    if credentials.assertion is not None:
        if credentials.assertion_type != assertions.ASSERTION_TYPE:
            raise OAuthError(
                "invalid_client", f"client_assertion_type must be {assertions.ASSERTION_TYPE}.", status=401
            )
        try:
            client_id = assertions.unverified_issuer(credentials.assertion)
        except assertions.InvalidAssertion as error:
            raise _refused_client(session, client_id, str(error)) from None
    app = await app_by_client_id(session, client_id or "")
    if app is None:
        raise _refused_client(session, client_id, "unknown or suspended client_id")
    if app.client_type is ClientType.BACKEND:
        if credentials.assertion is None:
            raise _refused_client(
                session, client_id, "a backend service authenticates with a signed assertion"
            )
        try:
            await assertions.verify_assertion(credentials.assertion, app=app, token_url=token_url, used=used)
        except assertions.InvalidAssertion as error:
            raise _refused_client(session, client_id, str(error)) from None
    elif app.client_type is ClientType.CONFIDENTIAL:
        secret = credentials.client_secret or ""
        if app.secret_hash is None or not secrets.compare_digest(hash_opaque_token(secret), app.secret_hash):
            raise _refused_client(session, client_id, "wrong or missing client secret")
    elif credentials.client_secret or credentials.assertion:
        raise _refused_client(session, client_id, "a public app has no secret")
    return app


def _refused_client(session: AsyncSession, client_id: str | None, reason: str) -> OAuthError:
    audit.record(
        session,
        actor=None,
        action="smart.client.authenticate",
        resource_type="smart_app",
        resource_id=client_id,
        outcome="denied",
        detail={"reason": reason},
    )
    return OAuthError("invalid_client", f"The client could not be authenticated: {reason}.", status=401)


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 S256: the challenge is the unpadded base64url SHA-256 of the verifier."""
    if not 43 <= len(verifier) <= 128:
        return False
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return secrets.compare_digest(digest.rstrip(b"=").decode(), challenge)


async def exchange_code(
    *,
    session: AsyncSession,
    app: SmartApp,
    code: str,
    redirect_uri: str | None,
    code_verifier: str | None,
    settings: Settings,
    endpoint: TokenEndpoint,
    fhir_user: FhirUserLookup,
) -> dict[str, Any]:
    """The tokens for an approved code, once: its app, redirect URI and PKCE verifier must match."""
    found = await session.scalar(
        select(SmartAuthorization).where(SmartAuthorization.code_hash == hash_opaque_token(code or "-"))
    )
    reason = None
    if found is None or found.app_id != app.id:
        reason = "The code is unknown."
    elif found.status is not AuthorizationStatus.APPROVED or found.expires_at <= utc_now():
        reason = "The code was already used or has expired."
    elif found.redirect_uri != redirect_uri:
        reason = "redirect_uri differs from the authorisation request's."
    elif not pkce_matches(code_verifier or "", found.code_challenge):
        reason = "The code_verifier does not match the code_challenge (PKCE S256)."
    if reason is not None or found is None:
        _audit_token(
            session,
            None,
            "smart.token",
            app,
            grant_type="authorization_code",
            outcome="denied",
            reason=reason,
        )
        raise OAuthError("invalid_grant", reason or "The code is unknown.")
    found.status = AuthorizationStatus.USED
    assert found.user_id is not None and found.granted_scope is not None
    user = await _active_user(session, found.user_id)
    record = SmartGrantRecord(
        app_id=app.id, user_id=user.id, scope=found.granted_scope, patient_id=found.patient_id
    )
    session.add(record)
    await session.flush()
    return await _user_tokens(
        session,
        app,
        user,
        record,
        settings=settings,
        endpoint=endpoint,
        fhir_user=fhir_user,
        nonce=found.nonce,
    )


async def exchange_refresh_token(
    *,
    session: AsyncSession,
    app: SmartApp,
    refresh_token: str,
    scope: str | None,
    settings: Settings,
    endpoint: TokenEndpoint,
    fhir_user: FhirUserLookup,
    revocations: TokenRevocations,
) -> dict[str, Any]:
    """New tokens for a grant's current refresh token (which is replaced: each works once).

    A replaced token presented again means two parties hold the grant's tokens: the grant ends."""
    presented = hash_opaque_token(refresh_token or "-")
    record = await session.scalar(select(SmartGrantRecord).where(SmartGrantRecord.refresh_hash == presented))
    if record is None:
        await _end_on_reuse(session, app, presented, settings=settings, revocations=revocations)
    now = utc_now()
    if (
        record is None
        or record.app_id != app.id
        or record.revoked_at is not None
        or record.refresh_expires_at is None
        or record.refresh_expires_at <= now
        or record.user_id is None
    ):
        _audit_token(session, None, "smart.token", app, grant_type="refresh_token", outcome="denied")
        raise OAuthError("invalid_grant", "The refresh token is unknown, revoked or expired.")
    if scope is not None:
        narrowed = narrow_request(split_scope(scope), split_scope(record.scope))
        if set(split_scope(scope)) - set(narrowed):
            raise OAuthError("invalid_scope", "A refresh may only ask for scopes already granted.")
        record.scope = " ".join(narrowed)
    user = await _active_user(session, record.user_id)
    return await _user_tokens(
        session, app, user, record, settings=settings, endpoint=endpoint, fhir_user=fhir_user
    )


async def _end_on_reuse(
    session: AsyncSession, app: SmartApp, presented: str, *, settings: Settings, revocations: TokenRevocations
) -> None:
    reused = await session.scalar(
        select(SmartGrantRecord).where(
            SmartGrantRecord.previous_refresh_hash == presented,
            SmartGrantRecord.app_id == app.id,
            SmartGrantRecord.revoked_at.is_(None),
        )
    )
    if reused is None:
        return
    await revoke_grant(session, reused, settings=settings, revocations=revocations)
    _audit_token(
        session,
        None,
        "smart.token",
        app,
        grant_type="refresh_token",
        outcome="denied",
        reason="reused; grant ended",
    )
    raise OAuthError(
        "invalid_grant", "This refresh token was already used; the grant is ended, sign in again."
    )


async def client_credentials(
    *, session: AsyncSession, app: SmartApp, scope: str | None, settings: Settings
) -> dict[str, Any]:
    """A backend service's access token for the system/ scopes it asks and is registered for."""
    if app.client_type is not ClientType.BACKEND:
        raise OAuthError("unauthorized_client", "Only backend services use client_credentials.")
    granted = narrow_request(split_scope(scope), split_scope(app.scopes))
    clinical = [c for c in map(parse_clinical, granted) if c is not None]
    if not clinical or any(c.level is not Level.SYSTEM for c in clinical):
        raise OAuthError(
            "invalid_scope", f"Ask for system/ scopes this service is registered for: {app.scopes}."
        )
    # The service acts as itself: its principal is the app (its id), with an administrator's reach
    # narrowed by its read-only system/ scopes.
    subject = Principal(user_id=app.id, role=Role.ADMIN)
    grant = SmartGrant.of(client_id=app.client_id, scope=" ".join(granted))
    issued = issue_smart_access_token(subject=subject, grant=grant, grant_id=app.id, settings=settings)
    _audit_token(session, subject, "smart.token", app, grant_type="client_credentials", scope=grant.scope)
    return {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl_s,
        "scope": grant.scope,
    }


async def _active_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise OAuthError("invalid_grant", "The user who granted this access is no longer active.")
    return user


async def _user_tokens(
    session: AsyncSession,
    app: SmartApp,
    user: User,
    record: SmartGrantRecord,
    *,
    settings: Settings,
    endpoint: TokenEndpoint,
    fhir_user: FhirUserLookup,
    nonce: str | None = None,
) -> dict[str, Any]:
    subject = user.as_principal()
    grant = SmartGrant.of(client_id=app.client_id, scope=record.scope, patient_id=record.patient_id)
    issued = issue_smart_access_token(subject=subject, grant=grant, grant_id=record.id, settings=settings)
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": settings.access_token_ttl_s,
        "scope": grant.scope,
        "need_patient_banner": True,
    }
    if record.patient_id is not None:
        body["patient"] = str(record.patient_id)
    if grant.has(OFFLINE_ACCESS):
        refresh_token = new_refresh_token()
        record.previous_refresh_hash = record.refresh_hash
        record.refresh_hash = hash_opaque_token(refresh_token)
        record.refresh_expires_at = utc_now() + timedelta(seconds=settings.refresh_token_ttl_s)
        body["refresh_token"] = refresh_token
    if grant.has(OPENID):
        reference = await fhir_user(subject) if grant.has(FHIR_USER) else None
        body["id_token"] = _id_token(subject, app, endpoint, settings, fhir_user=reference, nonce=nonce)
    await session.flush()
    _audit_token(
        session,
        subject,
        "smart.token",
        app,
        grant_type="authorization",
        patient_id=record.patient_id,
        scope=grant.scope,
    )
    return body


def _id_token(
    subject: Principal,
    app: SmartApp,
    endpoint: TokenEndpoint,
    settings: Settings,
    *,
    fhir_user: str | None,
    nonce: str | None,
) -> str:
    now = utc_now()
    claims: dict[str, Any] = {
        "iss": endpoint.fhir_base_url,
        "sub": str(subject.user_id),
        "aud": app.client_id,
        "iat": now,
        "exp": now + timedelta(seconds=ID_TOKEN_TTL_S),
    }
    if fhir_user is not None:
        claims["fhirUser"] = f"{endpoint.fhir_base_url}/{fhir_user}"
    if nonce is not None:
        claims["nonce"] = nonce
    return signing_key(settings).sign(claims)


_audit_token = audit.RowAudit("smart_app", context=lambda app: {"client_id": app.client_id}, patient_of=None)
