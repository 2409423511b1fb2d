"""Registration, login, tokens, refresh rotation, logout and login throttling, over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.identity.models import RefreshToken
from core.identity.tokens import hash_refresh_token
from core.principal import Role
from core.settings import Settings
from tests.builders import (
    bearer,
    create_user,
    http_client,
    login,
    login_tokens,
    signed_in,
    strong_password,
    unique_email,
)
from tests.conftest import AppFactory

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def claims_for(user_id: uuid.UUID, settings: Settings, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "role": "patient",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": secrets.token_urlsafe(8),
    }
    return {**claims, **changes}


def forge(claims: dict[str, Any], key: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value, default=str).encode()).rstrip(b"=").decode()

    payload = {**claims, "iat": int(claims["iat"].timestamp()), "nbf": int(claims["nbf"].timestamp())}
    payload["exp"] = int(claims["exp"].timestamp())
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


# Registration (what sign-up answers and sends: tests/api/test_account.py)


@pytest.mark.parametrize(
    ("password", "rule", "phrase"),
    [
        ("short-Pw1", "password-min-length", "at least 12 characters"),
        ("Password2024!", "password-common", "too common"),
        ("aaaaaaaaaaaaaaab", "password-repetitive", "repeated character"),
        ("{local}-is-my-secret", "password-contains-email", "email address"),
        ("Quentin-the-great-9", "password-contains-name", "your name"),
    ],
)
async def test_register_refuses_a_weak_password_naming_the_rule(
    client: httpx.AsyncClient, password: str, rule: str, phrase: str
) -> None:
    email = unique_email("alberta")
    payload = {
        "email": email,
        "password": password.format(local=email.partition("@")[0]),
        "full_name": "Quentin Q",
    }
    body = assert_problem(await client.post("/api/v1/auth/register", json=payload), 422)
    assert body["rule"] == rule
    assert phrase in body["detail"]


async def test_register_refuses_unknown_fields(client: httpx.AsyncClient) -> None:
    payload = {"email": unique_email(), "password": strong_password(), "full_name": "X", "role": "admin"}
    body = assert_problem(await client.post("/api/v1/auth/register", json=payload), 422)
    assert any(error["pointer"] == "#/body/role" for error in body["errors"])


async def test_register_refuses_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 400)["code"] == "malformed-json"


# Login and access tokens


async def test_login_returns_tokens_that_open_me(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, password = await create_user(sessions, role=Role.NURSE)
    tokens = await login_tokens(client, user.email.upper(), password)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == settings.access_token_ttl_s
    assert tokens["refresh_expires_in"] == settings.refresh_token_ttl_s
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user.id)
    assert me.json()["role"] == "nurse"


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=Role.PATIENT)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": unique_email(), "password": "whatever-1234"}
    )
    assert assert_problem(wrong, 401)["detail"] == assert_problem(unknown, 401)["detail"]
    assert "incorrect" in wrong.json()["detail"]
    assert wrong.headers["www-authenticate"].startswith("Bearer")


async def test_login_attempts_are_audited_whatever_their_outcome(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, password = await create_user(sessions, role=Role.CLINICIAN)
    await client.post("/api/v1/auth/login", json={"email": user.email, "password": "not-the-password"})
    await login(client, user.email, password)
    for _ in range(settings.login_attempts_per_account + 1):
        await client.post("/api/v1/auth/login", json={"email": user.email, "password": "not-the-password"})
    async with sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "login", AuditEvent.detail["email"].as_string() == user.email)
                .order_by(AuditEvent.seq)
            )
        )
        successes = list(
            await session.scalars(
                select(AuditEvent.outcome).where(AuditEvent.action == "login", AuditEvent.actor_id == user.id)
            )
        )
    outcomes = [event.outcome for event in events]
    assert outcomes == ["failure"] + ["failure"] * settings.login_attempts_per_account + ["denied"]
    assert events[0].detail["reason"] == "wrong password"
    assert successes == ["success"]


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/auth/me"), 401)
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}), 401)


async def test_expired_access_token_is_refused_as_expired(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, _ = await create_user(sessions, role=Role.PATIENT)
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = claims_for(user.id, settings, iat=past, nbf=past, exp=past + timedelta(minutes=15))
    token = forge(claims, settings.secret_key.get_secret_value())
    body = assert_problem(await client.get("/api/v1/auth/me", headers=bearer(token)), 401)
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "flaw", ["alg-none", "wrong-key", "wrong-audience", "wrong-issuer", "unknown-role", "no-jti"]
)
async def test_forged_access_tokens_are_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, flaw: str
) -> None:
    user, _ = await create_user(sessions, role=Role.PATIENT)
    key = settings.secret_key.get_secret_value()
    claims = claims_for(user.id, settings)
    token = {
        "alg-none": lambda: unsigned(claims),
        "wrong-key": lambda: forge(claims, secrets.token_urlsafe(48)),
        "wrong-audience": lambda: forge({**claims, "aud": "someone-else"}, key),
        "wrong-issuer": lambda: forge({**claims, "iss": "someone-else"}, key),
        "unknown-role": lambda: forge({**claims, "role": "superuser"}, key),
        "no-jti": lambda: forge({k: v for k, v in claims.items() if k != "jti"}, key),
    }[flaw]()
    body = assert_problem(await client.get("/api/v1/auth/me", headers=bearer(token)), 401)
    assert "invalid" in body["detail"]


async def test_a_correctly_forged_token_is_accepted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # The control for the test above: only the flaw makes the difference.
    user, _ = await create_user(sessions, role=Role.PATIENT)
    token = forge(claims_for(user.id, settings), settings.secret_key.get_secret_value())
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200


# Refresh tokens


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.PATIENT)
    first = await login_tokens(client, user.email, password)
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))).status_code == 200

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert "already used" in assert_problem(reused, 401)["detail"]
    # The thief may hold either token; the family is gone, so the newest one fails too.
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert_problem(after, 401)
    async with sessions() as session:
        reasons = set(
            await session.scalars(select(RefreshToken.revoked_reason).where(RefreshToken.user_id == user.id))
        )
    assert reasons == {"reuse detected"}


async def test_concurrent_presentations_of_one_refresh_token_let_only_one_through(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.PATIENT)
    tokens = await login_tokens(client, user.email, password)
    body = {"refresh_token": tokens["refresh_token"]}
    answers = await asyncio.gather(*(client.post("/api/v1/auth/refresh", json=body) for _ in range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 401]
    winner = next(answer for answer in answers if answer.status_code == 200).json()
    # The second presentation looked like a replay, so the whole family is revoked.
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    ).status_code == 401


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": secrets.token_urlsafe(48)})
    assert_problem(response, 401)


async def test_refresh_tokens_are_stored_only_as_hashes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.CLINICIAN)
    first = await login_tokens(client, user.email, password)
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    async with sessions() as session:
        rows = (
            await session.execute(select(RefreshToken.__table__).where(RefreshToken.user_id == user.id))
        ).all()
    stored = json.dumps([list(row) for row in rows], default=str)
    assert len(rows) == 2
    for plaintext in (first["refresh_token"], second["refresh_token"]):
        assert plaintext not in stored
        assert hash_refresh_token(plaintext) in stored


# Logout


async def test_logout_revokes_the_refresh_family_and_the_access_token(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.PATIENT)
    tokens = await login_tokens(client, user.email, password)
    headers = bearer(tokens["access_token"])
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 204, response.text
    refused = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert "revoked" in assert_problem(refused, 401)["detail"]
    assert "revoked" in assert_problem(await client.get("/api/v1/auth/me", headers=headers), 401)["detail"]


async def test_logout_leaves_another_users_refresh_token_alone(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    victim, victim_password = await create_user(sessions, role=Role.PATIENT)
    victim_tokens = await login_tokens(client, victim.email, victim_password)
    _, headers = await signed_in(client, sessions, Role.PATIENT)
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": victim_tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 204
    still = await client.post("/api/v1/auth/refresh", json={"refresh_token": victim_tokens["refresh_token"]})
    assert still.status_code == 200, still.text


async def test_logout_without_a_refresh_token_revokes_the_access_token(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.NURSE)
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=headers), 401)


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/logout"), 401)


# Login throttling


async def test_sixth_attempt_on_one_account_is_rate_limited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, password = await create_user(sessions, role=Role.NURSE)
    for _ in range(settings.login_attempts_per_account):
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": "not-it-at-all"}
        )
        assert wrong.status_code == 401
    # Refused before the password is looked at: even the right one waits.
    limited = await client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    body = assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0
    assert body["retry_after_s"] == int(limited.headers["retry-after"])


async def test_a_successful_login_resets_the_account_counter(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, password = await create_user(sessions, role=Role.NURSE)
    for _ in range(2):
        for _ in range(settings.login_attempts_per_account - 1):
            await client.post("/api/v1/auth/login", json={"email": user.email, "password": "not-it-at-all"})
        await login(client, user.email, password)


async def test_attempts_from_one_address_are_limited_across_accounts(app_with: AppFactory) -> None:
    address = f"192.0.2.{secrets.randbelow(254) + 1}"
    async with (
        app_with(login_attempts_per_address=3) as strict_app,
        http_client(strict_app, address=address) as http,
    ):
        for _ in range(3):
            attempt = await http.post(
                "/api/v1/auth/login", json={"email": unique_email(), "password": "x" * 12}
            )
            assert attempt.status_code == 401
        limited = await http.post("/api/v1/auth/login", json={"email": unique_email(), "password": "x" * 12})
        assert_problem(limited, 429)
        assert int(limited.headers["retry-after"]) > 0
    # Another address is not affected.
    async with app_with(login_attempts_per_address=3) as strict_app, http_client(strict_app) as other:
        attempt = await other.post("/api/v1/auth/login", json={"email": unique_email(), "password": "x" * 12})
        assert attempt.status_code == 401


async def test_openapi_documents_the_auth_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in ("register", "login", "refresh", "logout", "me"):
        assert f"/api/v1/auth/{path}" in paths
    refresh_schema = paths["/api/v1/auth/refresh"]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert refresh_schema == {"$ref": "#/components/schemas/TokenPair"}
