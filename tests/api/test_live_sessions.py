"""Account state is authoritative at request time: deactivation, role changes, password changes and
refresh-token reuse end access tokens at once, and close the user's open sockets; a Redis failure
answers 503, never 500 and never an unchecked token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from core.principal import Role
from core.settings import Settings
from tests.builders import bearer, create_user, http_client, login, login_tokens, signed_in, strong_password
from tests.conftest import AppFactory
from tests.realtime.consult_helpers import consult_client
from tests.realtime.hub_helpers import RECEIVE_TIMEOUT_S, RunningHub, hub_client, serve_app

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def closed_code(socket: ClientConnection) -> int:
    """Waits for the server to close the socket (answering nothing) and returns its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            async with asyncio.timeout(RECEIVE_TIMEOUT_S):
                await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_deactivated_users_token_is_refused_and_their_sockets_close(
    running: RunningHub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with http_client(running.app) as client:
        _, admin = await signed_in(client, sessions, Role.ADMIN)
        nurse, password = await create_user(sessions, role=Role.NURSE)
        token = (await login_tokens(client, nurse.email, password))["access_token"]
        consult_url = running.url.replace("/ws", "/ws/consult")
        async with hub_client(running.url, token) as hub, consult_client(consult_url, token) as consult:
            assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200

            changed = await client.patch(
                f"/api/v1/users/{nurse.id}", json={"is_active": False}, headers=admin
            )
            assert changed.status_code == 200, changed.text

            refused = await client.get("/api/v1/auth/me", headers=bearer(token))
            assert refused.status_code == 401
            assert "sign in again" in refused.json()["detail"]
            assert await closed_code(hub.ws) == 4401
            assert await consult.closed_with() == 4401


async def test_logging_out_closes_the_sockets_signed_in_with_that_token_only(
    running: RunningHub, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with http_client(running.app) as client:
        user, password = await create_user(sessions, role=Role.CLINICIAN)
        leaving = (await login_tokens(client, user.email, password))["access_token"]
        staying = (await login_tokens(client, user.email, password))["access_token"]
        async with hub_client(running.url, leaving) as closing, hub_client(running.url, staying) as kept:
            assert (await client.post("/api/v1/auth/logout", headers=bearer(leaving))).status_code == 204
            assert await closed_code(closing.ws) == 4401
            # The other sign-in's socket still answers.
            await kept.send(type="subscribe", scope="notifications", id=None)
            assert (await kept.receive_type("snapshot", "error"))["type"] == "snapshot"


async def test_a_demoted_administrator_loses_admin_rights_at_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, other_admin = await signed_in(client, sessions, Role.ADMIN)
    demoted, password = await create_user(sessions, role=Role.ADMIN)
    pair = await login_tokens(client, demoted.email, password)
    assert (await client.get("/api/v1/users", headers=bearer(pair["access_token"]))).status_code == 200

    changed = await client.patch(f"/api/v1/users/{demoted.id}", json={"role": "nurse"}, headers=other_admin)
    assert changed.status_code == 200, changed.text

    assert (await client.get("/api/v1/users", headers=bearer(pair["access_token"]))).status_code == 401
    # The device may refresh: into a token of the new role, which is refused what admins may do.
    renewed = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200, renewed.text
    nurse_headers = bearer(renewed.json()["access_token"])
    assert (await client.get("/api/v1/auth/me", headers=nurse_headers)).json()["role"] == "nurse"
    assert (await client.get("/api/v1/users", headers=nurse_headers)).status_code == 403


async def test_refresh_token_reuse_ends_the_access_tokens_of_its_family_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.NURSE)
    first = await login_tokens(client, user.email, password)
    elsewhere = await login(client, user.email, password)
    # The thief refreshes first; the owner's client then presents the same refresh token again.
    stolen = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert (await client.get("/api/v1/auth/me", headers=bearer(stolen["access_token"]))).status_code == 200

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401

    for token in (stolen["access_token"], first["access_token"]):
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
    # Another sign-in of the same user is another family: it carries on.
    assert (await client.get("/api/v1/auth/me", headers=elsewhere)).status_code == 200


async def test_a_password_change_ends_other_access_tokens_and_the_new_one_works(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.CLINICIAN)
    other_device = await login(client, user.email, password)
    this_device = await login(client, user.email, password)
    changed = await client.post(
        "/api/v1/auth/change-password",
        json={"current_password": password, "new_password": strong_password()},
        headers=this_device,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/auth/me", headers=other_device)).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=this_device)).status_code == 401
    fresh = bearer(changed.json()["access_token"])
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_signing_out_everywhere_ends_every_access_token_at_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await create_user(sessions, role=Role.PATIENT)
    phone = await login(client, user.email, password)
    laptop = await login(client, user.email, password)
    assert (await client.post("/api/v1/auth/sign-out-everywhere", headers=laptop)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=phone)).status_code == 401
    # Signing in again works: the new session is of the new generation.
    assert (
        await client.get("/api/v1/auth/me", headers=await login(client, user.email, password))
    ).status_code == 200


async def test_redis_out_of_reach_answers_503_with_retry_after(
    app_with: AppFactory, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.NURSE)
    # Nothing listens on port 1: every Redis call fails, as when Redis is down.
    down = app_with(redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.5)
    async with down as app, http_client(app) as other:
        for response in (
            await other.get("/api/v1/auth/me", headers=headers),
            await other.post("/api/v1/auth/login", json={"email": "a@example.org", "password": "x" * 12}),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith(PROBLEM)
            assert int(response.headers["retry-after"]) >= 1


async def test_a_burst_beyond_the_redis_pool_waits_or_is_told_to_retry_never_500(
    app_with: AppFactory, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.NURSE)
    async with app_with(redis_max_connections=2, redis_timeout_s=0.2) as app, http_client(app) as other:
        answers = await asyncio.gather(*(other.get("/api/v1/auth/me", headers=headers) for _ in range(40)))
    statuses = {response.status_code for response in answers}
    assert statuses <= {200, 503}, statuses
    assert 200 in statuses
