"""Client authentication by signed JWT (SMART Backend Services, RFC 7523 `private_key_jwt`).

The client signs a short-lived assertion with its private key (RS384 or ES384); we check it against
the public keys it registered, given inline or at a JWKS URL fetched when needed. Each assertion
works once: its `jti` is remembered until it expires.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import jwt

from core.db import utc_now
from core.identity.revocation import TokenRevocations
from core.identity.smart.models import SmartApp

ALGORITHMS = ("RS384", "ES384")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME_S = 300  # SMART: the assertion's exp is no more than five minutes ahead
JWKS_TIMEOUT_S = 5.0
JWKS_MAX_BYTES = 64 * 1024
USED_PREFIX = "smart-assertion:"


class InvalidAssertion(Exception):
    """The assertion does not authenticate the client; the message says why (for the log and audit)."""


def unverified_issuer(assertion: str) -> str:
    """The client id an assertion claims to come from (checked by `verify_assertion`)."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise InvalidAssertion(f"not a JWT: {error}") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidAssertion("the assertion names no issuer (iss)")
    return issuer


async def verify_assertion(
    assertion: str, *, app: SmartApp, token_url: str, used: TokenRevocations
) -> dict[str, Any]:
    """The assertion's claims if `app` signed it for our token endpoint and it was never used."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError as error:
        raise InvalidAssertion(f"not a JWT: {error}") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidAssertion(f"the algorithm must be one of {', '.join(ALGORITHMS)}, not {algorithm!r}")
    key = _signing_key(await _key_set(app), header.get("kid"), algorithm)
    try:
        claims = jwt.decode(
            assertion,
            key,
            algorithms=[algorithm],
            audience=token_url,
            issuer=app.client_id,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.InvalidTokenError as error:
        raise InvalidAssertion(f"the assertion does not verify: {error}") from None
    if claims["sub"] != app.client_id:
        raise InvalidAssertion("the assertion's sub must be the client id")
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=utc_now().tzinfo)
    if (expires_at - utc_now()).total_seconds() > MAX_LIFETIME_S:
        raise InvalidAssertion(f"the assertion may live at most {MAX_LIFETIME_S} seconds")
    jti = USED_PREFIX + f"{app.client_id}:{claims['jti']}"
    if await used.is_revoked(jti):
        raise InvalidAssertion("this assertion was already used (jti replayed)")
    await used.revoke(jti, until=expires_at)
    return claims


async def _key_set(app: SmartApp) -> jwt.PyJWKSet:
    data = app.jwks
    if data is None and app.jwks_url:
        data = await _fetch_jwks(app.jwks_url)
    if not data:
        raise InvalidAssertion("the client registered no public keys")
    try:
        return jwt.PyJWKSet.from_dict(data)
    except jwt.PyJWKSetError as error:
        raise InvalidAssertion(f"the client's key set is unusable: {error}") from None


async def _fetch_jwks(url: str) -> dict[str, Any]:
    # Fetched on each use: a client rotating its keys is heard at once (clients ask for tokens rarely).
    try:
        async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_S, follow_redirects=False) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise InvalidAssertion(f"the client's JWKS URL could not be fetched: {error}") from None
    if response.status_code != 200 or len(response.content) > JWKS_MAX_BYTES:
        raise InvalidAssertion(f"the client's JWKS URL answered {response.status_code}")
    try:
        data = json.loads(response.content)
    except ValueError:
        raise InvalidAssertion("the client's JWKS URL did not answer JSON") from None
    if not isinstance(data, dict):
        raise InvalidAssertion("the client's JWKS is not a JSON object")
    return data


def _signing_key(keys: jwt.PyJWKSet, kid: str | None, algorithm: str) -> Any:
    family = "RSA" if algorithm.startswith("RS") else "EC"
    for key in keys.keys:
        if key.key_type != family or (kid is not None and key.key_id != kid):
            continue
        if key.public_key_use not in (None, "sig"):
            continue
        return key.key
    raise InvalidAssertion(
        f"no registered {family} key{f' with kid {kid!r}' if kid else ''} signs this assertion"
    )


def check_key_set(data: Any) -> None:
    """ValueError unless `data` is a JWK Set holding at least one RSA or EC public key."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("jwks must be a JWK Set: an object with a 'keys' array")
    try:
        keys = jwt.PyJWKSet.from_dict(data)
    except jwt.PyJWKSetError as error:
        raise ValueError(f"jwks holds no usable key: {error}") from None
    if any(getattr(k.key, "private_numbers", None) for k in keys.keys):
        raise ValueError("jwks must hold public keys only")
    if not any(k.key_type in ("RSA", "EC") for k in keys.keys):
        raise ValueError("jwks must hold an RSA or EC key")
