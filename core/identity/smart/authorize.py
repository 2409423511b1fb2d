"""The authorisation request: `/oauth/authorize`, the user's consent, and EHR launch contexts.

`/oauth/authorize` checks the request and keeps it as pending; the consent page (the signed-in user's
browser, with the user's own token) reads it in words and approves or denies. Approval issues a code
bound to the PKCE challenge (S256 only), redeemed once at the token endpoint within a minute.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import Forbidden, InvalidInput, NotFound
from core.identity.smart.apps import app_by_client_id
from core.identity.smart.errors import OAuthError
from core.identity.smart.models import AuthorizationStatus, ClientType, SmartApp, SmartAuthorization
from core.identity.smart.scopes import LAUNCH, LAUNCH_PATIENT, check_scopes, describe, narrow_request
from core.identity.tokens import ALGORITHM, LEEWAY_S, hash_opaque_token
from core.principal import InvalidScope, Level, Principal, Role, parse_clinical, split_scope
from core.settings import Settings

REQUEST_TTL_S = 600  # the user has ten minutes to answer the consent page
CODE_TTL_S = 60  # the app redeems its code at once
LAUNCH_TTL_S = 300
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    """The query of `/oauth/authorize`."""

    response_type: str | None
    client_id: str | None
    redirect_uri: str | None
    scope: str | None
    state: str | None
    aud: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    launch: str | None = None
    nonce: str | None = None


class AuthorizeRedirect(Exception):
    """An error reported to the app at its (verified) redirect URI."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def redirect_url(redirect_uri: str, params: dict[str, str | None]) -> str:
    """`redirect_uri` with `params` added to its query."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"


async def start_authorization(
    *, session: AsyncSession, request: AuthorizeRequest, fhir_base_url: str, settings: Settings
) -> SmartAuthorization:
    """The pending authorisation of a valid request.

    OAuthError for a bad client or redirect URI (shown to the user: never redirect to an unverified
    address); AuthorizeRedirect carrying the error for anything else, as RFC 6749 section 4.1.2.1 asks."""
    app = await app_by_client_id(session, request.client_id or "")
    if app is None or app.client_type is ClientType.BACKEND:
        raise OAuthError("invalid_client", "No app is registered with this client_id.")
    if request.redirect_uri not in app.redirect_uris:
        raise OAuthError("invalid_request", "The redirect_uri is not one the app registered.")

    def refuse(error: str, description: str) -> AuthorizeRedirect:
        audit.record(
            session,
            actor=None,
            action="smart.authorize",
            resource_type="smart_app",
            resource_id=app.id,
            outcome="denied",
            detail={"error": error, "description": description},
        )
        assert request.redirect_uri is not None
        return AuthorizeRedirect(
            redirect_url(
                request.redirect_uri,
                {"error": error, "error_description": description, "state": request.state},
            )
        )

    if request.response_type != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported.")
    if request.code_challenge_method != "S256":
        raise refuse(
            "invalid_request", "PKCE is required with code_challenge_method=S256 (plain is refused)."
        )
    if not request.code_challenge or not PKCE_CHALLENGE.match(request.code_challenge):
        raise refuse("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier.")
    if (request.aud or "").rstrip("/") != fhir_base_url:
        raise refuse("invalid_request", f"aud must be this server's FHIR base URL, {fhir_base_url}.")
    try:
        requested = split_scope(request.scope)
        check_scopes(requested)
    except InvalidScope as error:
        raise refuse("invalid_scope", str(error)) from None
    granted = narrow_request(requested, split_scope(app.scopes))
    if not any(parse_clinical(s) for s in granted):
        raise refuse("invalid_scope", "None of the requested clinical scopes is allowed for this app.")
    launch_user_id = launch_patient_id = None
    if request.launch is not None:
        if LAUNCH not in granted:
            raise refuse("invalid_scope", "An EHR launch asks for the 'launch' scope.")
        context = read_launch(request.launch, settings=settings, client_id=app.client_id)
        if context is None:
            raise refuse("invalid_request", "The launch parameter is invalid or expired; launch again.")
        launch_user_id, launch_patient_id = context
    elif LAUNCH in granted:
        granted.remove(LAUNCH)  # standalone: there is no EHR context to share
    # Answered and abandoned requests are kept an hour past their expiry (for support), then go; the
    # table stays as small as an hour of sign-ins, so this needs no job of its own.
    await session.execute(
        delete(SmartAuthorization).where(SmartAuthorization.expires_at < utc_now() - timedelta(hours=1))
    )
    pending = SmartAuthorization(
        app_id=app.id,
        status=AuthorizationStatus.PENDING,
        redirect_uri=request.redirect_uri,
        requested_scope=" ".join(requested),
        granted_scope=" ".join(granted),
        state=request.state,
        code_challenge=request.code_challenge,
        nonce=request.nonce,
        launch_user_id=launch_user_id,
        launch_patient_id=launch_patient_id,
        expires_at=utc_now() + timedelta(seconds=REQUEST_TTL_S),
    )
    session.add(pending)
    await session.flush()
    return pending


class ScopeWords(BaseModel):
    scope: str
    words: str


class ConsentRead(BaseModel):
    """What the consent page shows: the app, the access in words, and what it must ask the user."""

    id: uuid.UUID
    app_name: str
    redirect_host: str
    scopes: list[ScopeWords]
    needs_patient: bool
    patient_id: uuid.UUID | None  # fixed by the EHR launch or by who the user is
    patient_picker: bool  # staff choose the patient (a standalone launch)


async def read_consent(
    *, session: AsyncSession, actor: Principal, authorization_id: uuid.UUID
) -> ConsentRead:
    """The pending request, for the signed-in user's consent page."""
    pending, app = await _pending(session, actor, authorization_id)
    needs = _needs_patient(pending)
    fixed = pending.launch_patient_id or (actor.patient_id if actor.role is Role.PATIENT else None)
    return ConsentRead(
        id=pending.id,
        app_name=app.name,
        redirect_host=urlsplit(pending.redirect_uri).netloc,
        scopes=[ScopeWords(scope=s, words=describe(s)) for s in split_scope(pending.granted_scope)],
        needs_patient=needs,
        patient_id=fixed if needs else None,
        patient_picker=needs and fixed is None and actor.is_staff,
    )


async def approve_authorization(
    *, session: AsyncSession, actor: Principal, authorization_id: uuid.UUID, patient_id: uuid.UUID | None
) -> str:
    """Issues the code; returns where the browser goes next (the app's redirect URI with it)."""
    pending, app = await _pending(session, actor, authorization_id)
    chosen = None
    if _needs_patient(pending):
        chosen = _patient_in_context(actor, pending, patient_id)
    code = secrets.token_urlsafe(32)
    pending.user_id = actor.user_id
    pending.patient_id = chosen
    pending.status = AuthorizationStatus.APPROVED
    pending.code_hash = hash_opaque_token(code)
    pending.expires_at = utc_now() + timedelta(seconds=CODE_TTL_S)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="smart.consent",
        resource_type="smart_app",
        resource_id=app.id,
        patient_id=chosen,
        detail={"client_id": app.client_id, "scope": pending.granted_scope, "decision": "approved"},
    )
    return redirect_url(pending.redirect_uri, {"code": code, "state": pending.state})


async def deny_authorization(*, session: AsyncSession, actor: Principal, authorization_id: uuid.UUID) -> str:
    """Records the refusal; returns the app's redirect URI carrying `access_denied`."""
    pending, app = await _pending(session, actor, authorization_id)
    pending.status = AuthorizationStatus.DENIED
    pending.user_id = actor.user_id
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="smart.consent",
        resource_type="smart_app",
        resource_id=app.id,
        detail={"client_id": app.client_id, "scope": pending.granted_scope, "decision": "denied"},
    )
    return redirect_url(
        pending.redirect_uri,
        {"error": "access_denied", "error_description": "The user declined.", "state": pending.state},
    )


async def _pending(
    session: AsyncSession, actor: Principal, authorization_id: uuid.UUID
) -> tuple[SmartAuthorization, SmartApp]:
    pending = await session.get(SmartAuthorization, authorization_id)
    if (
        pending is None
        or pending.status is not AuthorizationStatus.PENDING
        or pending.expires_at <= utc_now()
    ):
        raise NotFound(
            "This authorisation request is unknown, answered or expired; start again from the app."
        )
    if pending.launch_user_id is not None and pending.launch_user_id != actor.user_id:
        raise Forbidden("This app was launched by another user.")
    app = await session.get(SmartApp, pending.app_id)
    if app is None or not app.is_active:
        raise NotFound("This app is no longer registered.")
    return pending, app


def _needs_patient(pending: SmartAuthorization) -> bool:
    scopes = split_scope(pending.granted_scope)
    return LAUNCH_PATIENT in scopes or any(
        (c := parse_clinical(s)) is not None and c.level is Level.PATIENT for s in scopes
    )


def _patient_in_context(actor: Principal, pending: SmartAuthorization, chosen: uuid.UUID | None) -> uuid.UUID:
    if actor.role is Role.PATIENT:
        if actor.patient_id is None:
            raise Forbidden("This account has no patient record to share.")
        return actor.patient_id  # a patient only ever shares their own record
    if pending.launch_patient_id is not None:
        return pending.launch_patient_id
    if not actor.is_staff:
        raise Forbidden("Only clinical staff choose a patient for an app.")
    if chosen is None:
        raise InvalidInput("patient_id: choose the patient the app opens with.")
    return chosen


def issue_launch(*, settings: Settings, user_id: uuid.UUID, patient_id: uuid.UUID, client_id: str) -> str:
    """The `launch` parameter of an EHR launch: who launched which app with which patient."""
    now = utc_now()
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": f"{settings.jwt_audience}-launch",
        "sub": str(user_id),
        "patient": str(patient_id),
        "client_id": client_id,
        "iat": now,
        "exp": now + timedelta(seconds=LAUNCH_TTL_S),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def read_launch(launch: str, *, settings: Settings, client_id: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The (user, patient) of a launch issued for this app, or None."""
    try:
        claims = jwt.decode(
            launch[:2048],
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=f"{settings.jwt_audience}-launch",
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_S,
            options={"require": ["sub", "patient", "client_id", "exp"]},
        )
        if claims["client_id"] != client_id:
            return None
        return uuid.UUID(claims["sub"]), uuid.UUID(claims["patient"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
