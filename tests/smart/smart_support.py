"""SMART test helpers: register apps through the admin API and walk an app through the PKCE flow
exactly as a browser and the app would (authorize, consent by the signed-in user, token)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core.principal import Role
from tests.builders import create_user, login

FHIR_BASE = "http://ownat.test/fhir/R4"
TOKEN_URL = "http://ownat.test/oauth/token"
REDIRECT_URI = "http://127.0.0.1:9/callback"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def admin_headers(client: httpx.AsyncClient, sessions: Any) -> dict[str, str]:
    user, password = await create_user(sessions, role=Role.ADMIN)
    return await login(client, user.email, password)


async def register_app(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    *,
    scopes: str,
    client_type: str = "public",
    **extra: Any,
) -> dict[str, Any]:
    body = {"name": f"Test app {secrets.token_hex(3)}", "client_type": client_type, "scopes": scopes, **extra}
    if client_type != "backend":
        body.setdefault("redirect_uris", [REDIRECT_URI])
    response = await client.post("/api/v1/smart/apps", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorized:
    code: str
    verifier: str
    state: str


async def authorize_url(
    client: httpx.AsyncClient, client_id: str, scope: str, *, challenge: str, state: str, **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "aud": FHIR_BASE,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return await client.get("/oauth/authorize", params={k: v for k, v in params.items() if v is not None})


async def authorize(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    client_id: str,
    scope: str,
    *,
    patient_id: uuid.UUID | None = None,
    **extra: str,
) -> Authorized:
    """Authorize, consent (choosing `patient_id` if the picker asks) and return the code."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(8)
    response = await authorize_url(client, client_id, scope, challenge=challenge, state=state, **extra)
    assert response.status_code == 302, response.text
    consent_url = response.headers["location"]
    assert consent_url.startswith("/oauth/consent/"), consent_url
    request_id = query_of(consent_url)["request"]
    answer = await client.post(
        f"/api/v1/smart/authorizations/{request_id}/approve",
        json={"patient_id": str(patient_id) if patient_id else None},
        headers=user_headers,
    )
    assert answer.status_code == 200, answer.text
    back = query_of(answer.json()["redirect_to"])
    assert back["state"] == state
    return Authorized(back["code"], verifier, state)


async def exchange(
    client: httpx.AsyncClient, client_id: str, authorized: Authorized, **extra: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": authorized.code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "code_verifier": authorized.verifier,
        **extra,
    }
    return await client.post("/oauth/token", data=form)


async def app_token(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    client_id: str,
    scope: str,
    *,
    patient_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The token response of a completed launch."""
    authorized = await authorize(client, user_headers, client_id, scope, patient_id=patient_id)
    response = await exchange(client, client_id, authorized)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class BackendKey:
    """A backend service's key pair: its private key signs assertions, its JWKS is registered."""

    private: Any
    algorithm: str
    kid: str

    @classmethod
    def new(cls, algorithm: str = "ES384") -> BackendKey:
        private: Any = (
            ec.generate_private_key(ec.SECP384R1())
            if algorithm == "ES384"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        return cls(private, algorithm, secrets.token_hex(4))

    def jwks(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = algorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}]}

    def assertion(self, client_id: str, *, audience: str = TOKEN_URL, lifetime_s: int = 240) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "exp": now + lifetime_s,
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": self.kid})


async def backend_token(
    client: httpx.AsyncClient, client_id: str, key: BackendKey, scope: str, *, assertion: str | None = None
) -> httpx.Response:
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion or key.assertion(client_id),
    }
    return await client.post("/oauth/token", data=form)
