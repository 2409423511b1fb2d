"""The hub's door: the first message authenticates, the URL never does, and each role's reach."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from core.principal import Role
from core.settings import Settings
from tests.builders import create_user
from tests.clinical.builders import create_patient, create_patient_user, create_ward_with_beds
from tests.realtime.hub_helpers import RunningHub, hub_client, serve_app, token_for

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def closed_code(client_ws: ClientConnection) -> int:
    """Waits for the server to close the socket and returns its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client_ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_no_auth_message_is_closed_with_4401(running: RunningHub) -> None:
    await running.restart_hub(auth_timeout_s=0.3)
    async with hub_client(running.url, None) as client:
        assert await closed_code(client.ws) == 4401


async def test_bad_token_is_closed_with_4401(running: RunningHub) -> None:
    await running.restart_hub()
    async with hub_client(running.url, None) as client:
        await client.send(type="auth", token="not-a-jwt")
        assert await closed_code(client.ws) == 4401


async def test_first_message_other_than_auth_is_closed_with_4401(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    async with hub_client(running.url, None) as client:
        await client.send(type="subscribe", scope="patient", id=str((await create_patient(sessions)).id))
        assert await closed_code(client.ws) == 4401


async def test_token_in_url_is_ignored(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=Role.NURSE)
    token = token_for(user, settings)
    await running.restart_hub(auth_timeout_s=0.3)
    async with hub_client(f"{running.url}?token={token}&access_token={token}", None) as client:
        assert await closed_code(client.ws) == 4401


async def test_unknown_and_malformed_messages_get_errors_not_a_crash(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=Role.NURSE)
    await running.restart_hub()
    async with hub_client(running.url, token_for(user, settings)) as client:
        await client.send(type="launch-missiles")
        assert (await client.receive_type("error"))["code"] == "unknown-type"
        await client.ws.send("{not json")
        assert (await client.receive_type("error"))["code"] == "invalid-json"
        await client.send(type="subscribe", scope="ward", id="x" * 9000)
        assert (await client.receive_type("error"))["code"] == "too-large"
        await client.send(type="subscribe", scope="galaxy", id="1")
        assert (await client.receive_type("error"))["code"] == "invalid-message"
        await client.send(type="auth", token="again")
        assert (await client.receive_type("error"))["code"] == "not-authenticated"
        # Still serving after all of that.
        ward, _ = await create_ward_with_beds(sessions, beds=1)
        assert (await client.subscribe("ward", ward.id))["type"] == "snapshot"


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.ADMIN])
async def test_staff_may_watch_wards_and_any_patient(
    role: Role, running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=role)
    ward, _ = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    await running.restart_hub()
    async with hub_client(running.url, token_for(user, settings)) as client:
        assert (await client.subscribe("ward", ward.id))["type"] == "snapshot"
        assert (await client.subscribe("patient", patient.id))["type"] == "snapshot"
        assert (await client.subscribe("alarms", patient.id))["type"] == "snapshot"


async def test_patient_may_watch_only_their_own_feeds(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, patient, _ = await create_patient_user(sessions)
    other = await create_patient(sessions)
    ward, _ = await create_ward_with_beds(sessions, beds=1)
    await running.restart_hub()
    async with hub_client(running.url, token_for(user, settings)) as client:
        denied_ward = await client.subscribe("ward", ward.id)
        assert (denied_ward["type"], denied_ward["code"]) == ("error", "forbidden")
        denied_patient = await client.subscribe("patient", other.id)
        assert (denied_patient["type"], denied_patient["code"]) == ("error", "forbidden")
        assert (await client.subscribe("patient", patient.id))["type"] == "snapshot"
        # The own alarm feed needs no id: it is the caller's.
        own_alarms = await client.subscribe("alarms", None)
        assert (own_alarms["type"], own_alarms["id"]) == ("snapshot", str(patient.id))


async def test_unknown_targets_are_not_found(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=Role.NURSE)
    await running.restart_hub()
    async with hub_client(running.url, token_for(user, settings)) as client:
        answer = await client.subscribe("ward", uuid.uuid4())
        assert (answer["type"], answer["code"]) == ("error", "not-found")
