"""A socket lives as long as its access token, unless the same user signs in again on it in time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.exceptions import ConnectionClosed

from core.principal import Role
from core.settings import Settings
from realtime.socket_signin import CLOSE_TOKEN_EXPIRED
from tests.builders import create_user
from tests.clinical.builders import create_ward_with_beds
from tests.realtime.hub_helpers import (
    SHORT_TTL_S,
    HubClient,
    RunningHub,
    hub_client,
    serve_app,
    short_lived,
    token_for,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def closed_with(client: HubClient) -> tuple[int, str]:
    """Reads (answering pings) until the server closes; returns its close code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.receive_type("never")
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_the_socket_closes_when_its_token_expires(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    async with hub_client(running.url, token_for(nurse, short_lived(settings))) as client:
        assert await closed_with(client) == (CLOSE_TOKEN_EXPIRED, "access token expired")


async def test_a_fresh_token_of_the_same_user_keeps_the_socket_open(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The first ping comes after the first token has expired.
    await running.restart_hub(heartbeat_interval_s=SHORT_TTL_S + 2)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, _ = await create_ward_with_beds(sessions, beds=1)
    async with hub_client(running.url, token_for(nurse, short_lived(settings))) as client:
        await client.send(type="auth", token=token_for(nurse, settings))
        renewed = await client.receive_type("ready")
        assert renewed["renewed"] is True and renewed["user_id"] == str(nurse.id)
        ping = await client.receive_type("ping")
        await client.send(type="pong", seq=ping["seq"])
        # Past the first token's expiry and still serving.
        assert (await client.subscribe("ward", ward.id))["type"] == "snapshot"


async def test_another_users_token_is_refused_and_the_first_expiry_stands(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    other, _ = await create_user(sessions, role=Role.NURSE)
    async with hub_client(running.url, token_for(nurse, short_lived(settings))) as client:
        await client.send(type="auth", token=token_for(other, settings))
        assert (await client.receive_type("error"))["code"] == "different-user"
        await client.send(type="auth", token="not-a-jwt")
        assert (await client.receive_type("error"))["code"] == "not-authenticated"
        assert await closed_with(client) == (CLOSE_TOKEN_EXPIRED, "access token expired")
