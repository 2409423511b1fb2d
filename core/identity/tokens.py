"""Access tokens (short-lived JWTs, HS256) and opaque refresh tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.db import utc_now
from core.errors import NotAuthenticated
from core.identity.revocation import TokenRevocations
from core.principal import Principal, Role
from core.settings import Settings

ALGORITHM = "HS256"
# Tolerated clock difference between the instances that issue and check tokens.
LEEWAY_S = 10
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti", "sub"]
# Far above any token we issue; refuses absurd headers before any parsing.
MAX_TOKEN_LENGTH = 4096


def issue_access_token(principal: Principal, *, settings: Settings) -> tuple[str, datetime]:
    """A signed access token for `principal` and the moment it expires."""
    issued_at = utc_now()
    expires_at = issued_at + timedelta(seconds=settings.access_token_ttl_s)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(principal.user_id),
        "role": principal.role.value,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
        "jti": secrets.token_urlsafe(16),
        # The user's session generation and the refresh-token family: either ends the token early.
        "gen": principal.generation,
    }
    if principal.patient_id is not None:
        claims["pid"] = str(principal.patient_id)
    if principal.family_id is not None:
        claims["fam"] = str(principal.family_id)
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return token, expires_at


async def authenticate_access_token(
    token: str, *, settings: Settings, revocations: TokenRevocations
) -> Principal:
    """The principal of a valid, unexpired, unrevoked access token; NotAuthenticated otherwise.

    Revocation is checked against the live session state (one Redis round trip); a Redis failure
    propagates as RedisError, which the api answers with 503: a token is never let through unchecked.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotAuthenticated("The access token is invalid.")
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            # Only the algorithm we sign with: refuses "none" and any attempt to switch algorithms.
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_S,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("The access token has expired; refresh it or sign in again.") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("The access token is invalid.") from None
    principal = _principal_from_claims(claims)
    refusal = await revocations.refusal(principal)
    if refusal is not None:
        raise NotAuthenticated(refusal)
    return principal


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        pid, family = claims.get("pid"), claims.get("fam")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise ValueError("jti must be a non-empty string")
        # Tokens issued before generations existed carry none: they are of generation 0.
        generation = claims.get("gen", 0)
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise ValueError("gen must be an integer")
        return Principal(
            user_id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            patient_id=uuid.UUID(pid) if pid is not None else None,
            token_id=jti,
            generation=generation,
            family_id=uuid.UUID(family) if family is not None else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        # Signed by us but not in our shape (e.g. a role that no longer exists): refuse it.
        raise NotAuthenticated("The access token is invalid.") from None


def new_refresh_token() -> str:
    """A fresh opaque refresh token (384 random bits)."""
    return secrets.token_urlsafe(48)


def hash_refresh_token(token: str) -> str:
    """The SHA-256 hex digest under which a refresh token is stored and looked up."""
    return hash_opaque_token(token)


def new_link_token() -> str:
    """A fresh token for an emailed single-use link (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    """The SHA-256 hex digest under which a random token (refresh token, emailed link) is kept.

    A fast hash is enough: the token is random and long, so there is nothing to brute-force.
    """
    return hashlib.sha256(token.encode()).hexdigest()
