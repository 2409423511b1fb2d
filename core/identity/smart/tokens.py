"""SMART access tokens: JWTs for the FHIR audience only, carrying the app's grant.

They are signed like Ownat's own tokens (HS256, the secret key) but for a different audience, so the
REST API refuses them: an app reaches FHIR and nothing else. `authenticate_fhir_token` accepts both
kinds on the FHIR base; an Ownat token carries no grant and keeps its full role-based access.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.db import utc_now
from core.errors import NotAuthenticated
from core.identity.revocation import TokenRevocations
from core.identity.tokens import (
    ALGORITHM,
    LEEWAY_S,
    MAX_TOKEN_LENGTH,
    REQUIRED_CLAIMS,
    authenticate_access_token,
)
from core.principal import Principal, Role, SmartGrant
from core.settings import Settings

# Revoking a grant refuses its access tokens for at most their lifetime.


def fhir_audience(settings: Settings) -> str:
    """The `aud` of SMART access tokens: distinct from the REST API's, which refuses them."""
    return f"{settings.jwt_audience}-fhir"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


def issue_smart_access_token(
    *, subject: Principal, grant: SmartGrant, grant_id: uuid.UUID, settings: Settings
) -> IssuedToken:
    """An access token for the FHIR API acting as `subject`, narrowed by `grant`."""
    issued_at = utc_now()
    expires_at = issued_at + timedelta(seconds=settings.access_token_ttl_s)
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": fhir_audience(settings),
        "sub": str(subject.user_id),
        "role": subject.role.value,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "gid": str(grant_id),
        # The user's session generation: deactivation, a role or password change end the app's
        # access too (core.identity.revocation); the grant is the token's family.
        "gen": subject.generation,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
        "jti": jti,
    }
    if subject.patient_id is not None:
        claims["pid"] = str(subject.patient_id)
    if grant.patient_id is not None:
        claims["patient"] = str(grant.patient_id)
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return IssuedToken(token, jti, expires_at)


def decode_smart_token(token: str, *, settings: Settings, verify_exp: bool = True) -> dict[str, Any]:
    """The claims of a SMART access token signed by us; jwt.InvalidTokenError otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise jwt.InvalidTokenError("too long")
    return jwt.decode(
        token,
        settings.secret_key.get_secret_value(),
        algorithms=[ALGORITHM],
        audience=fhir_audience(settings),
        issuer=settings.jwt_issuer,
        leeway=LEEWAY_S,
        # client_id, scope and gid are checked by principal_from_claims (a missing one is invalid).
        options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
    )


async def authenticate_fhir_token(
    token: str, *, settings: Settings, revocations: TokenRevocations
) -> Principal:
    """The caller on the FHIR API: an app's token (with its grant) or an Ownat access token."""
    try:
        claims = decode_smart_token(token, settings=settings)
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("The access token has expired; refresh it or launch the app again.") from None
    except jwt.InvalidAudienceError:
        return await authenticate_access_token(token, settings=settings, revocations=revocations)
    except jwt.InvalidTokenError:
        raise NotAuthenticated("The access token is invalid.") from None
    principal = principal_from_claims(claims)
    refusal = await revocations.refusal(principal)
    if refusal is not None:
        raise NotAuthenticated(refusal)
    return principal


def _generation(claims: dict[str, Any]) -> int:
    generation = claims.get("gen", 0)
    if not isinstance(generation, int) or isinstance(generation, bool):
        raise ValueError("gen must be an integer")
    return generation


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The principal a SMART token's claims describe; NotAuthenticated if they are not our shape."""
    try:
        pid, patient = claims.get("pid"), claims.get("patient")
        uuid.UUID(str(claims["gid"]))
        grant = SmartGrant.of(
            client_id=str(claims["client_id"]),
            scope=str(claims["scope"]),
            patient_id=uuid.UUID(patient) if patient is not None else None,
        )
        return Principal(
            user_id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            patient_id=uuid.UUID(pid) if pid is not None else None,
            token_id=str(claims["jti"]),
            grant=grant,
            generation=_generation(claims),
            family_id=uuid.UUID(str(claims["gid"])),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise NotAuthenticated("The access token is invalid.") from None
