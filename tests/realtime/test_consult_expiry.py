"""A consult socket lives as long as its token, unless the same caller signs in again on it in time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.identity.tokens import LEEWAY_S
from core.settings import Settings
from realtime.consult.identity import GuestTicket, issue_guest_ticket
from realtime.socket_signin import CLOSE_NOT_AUTHENTICATED, CLOSE_TOKEN_EXPIRED, EXPIRED_CLOSE_REASON
from tests.realtime.consult_helpers import ConsultClient, consult_client, video_visit
from tests.realtime.hub_helpers import RunningHub, serve_app, short_lived, token_for

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


@pytest.fixture(scope="module")
def url(running: RunningHub) -> str:
    return running.url.replace("/ws", "/ws/consult")


async def closed_with(client: ConsultClient) -> tuple[int, str]:
    """Waits until the server closes the socket; its close code and reason."""
    code = await client.closed_with()
    return code, client.ws.close_reason or ""


async def still_open(client: ConsultClient) -> None:
    """The socket still answers."""
    await client.send(type="ping", seq=7)
    assert (await client.expect("pong"))["seq"] == 7


async def test_a_consult_socket_closes_when_its_token_expires_and_leaves_the_room(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    async with (
        consult_client(url, token_for(visit.clinician, settings)) as clinician_ws,
        consult_client(url, token_for(visit.patient, short_lived(settings))) as patient_ws,
    ):
        await clinician_ws.join(visit.room)
        patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
        while [p["id"] for p in (await clinician_ws.expect("waiting"))["waiting"]] != [patient_id]:
            pass
        assert await closed_with(patient_ws) == (CLOSE_TOKEN_EXPIRED, EXPIRED_CLOSE_REASON)
        # The room hears that the patient is gone.
        await clinician_ws.expect("waiting", waiting=[])
        await still_open(clinician_ws)


async def test_a_fresh_token_of_the_same_user_keeps_the_socket_open_past_the_first_expiry(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    short = short_lived(settings)
    async with consult_client(url, token_for(visit.patient, short)) as patient_ws:
        await patient_ws.send(type="auth", token=token_for(visit.patient, settings))
        renewed = await patient_ws.expect("ready")
        assert renewed["renewed"] is True and renewed["role"] == "patient"
        # A witness signed in after the first token, so it expires no earlier: once it is closed,
        # the first token has expired too.
        async with consult_client(url, token_for(visit.patient, short)) as witness:
            assert (await closed_with(witness))[0] == CLOSE_TOKEN_EXPIRED
        await still_open(patient_ws)
        assert (await patient_ws.join(visit.room))["participant"]["status"] == "waiting"


async def test_another_users_token_is_refused_and_closes_the_socket(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    async with consult_client(url, token_for(visit.patient, settings)) as patient_ws:
        await patient_ws.join(visit.room)
        await patient_ws.send(type="auth", token=token_for(visit.clinician, settings))
        code, reason = await closed_with(patient_ws)
        assert code == CLOSE_NOT_AUTHENTICATED and "signed in as the caller who opened it" in reason
        assert not [m for m in patient_ws.inbox if m["type"] == "ready"], "no renewal was answered"


async def test_a_revoked_token_cannot_renew(
    url: str, running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    fresh = token_for(visit.patient, settings)
    claims = jwt.decode(fresh, options={"verify_signature": False})
    revocations = running.app.state.resources.revocations
    await revocations.revoke(claims["jti"], until=datetime.fromtimestamp(claims["exp"], tz=utc_now().tzinfo))
    async with consult_client(url, token_for(visit.patient, settings)) as patient_ws:
        await patient_ws.send(type="auth", token=fresh)
        # (The reason is the generic one: a token that fails as an access token is tried as a ticket.)
        assert (await closed_with(patient_ws))[0] == CLOSE_NOT_AUTHENTICATED
        assert not [m for m in patient_ws.inbox if m["type"] == "ready"], "no renewal was answered"


async def test_a_guest_socket_lasts_as_its_ticket_and_renews_only_with_its_own_invitation(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    ticket = GuestTicket(
        invitation_id=uuid.uuid4(),
        room=visit.room,
        display_name="Interpreter",
        expires_at=(utc_now() + timedelta(hours=1)).replace(microsecond=0),
    )
    async with consult_client(url, None) as guest_ws:
        await guest_ws.send(type="auth", token=issue_guest_ticket(ticket, settings=settings))
        ready = await guest_ws.expect("ready")
        # The room's closing (the ticket's expiry) ends a joined guest first, with `ended`.
        assert datetime.fromisoformat(ready["expires_at"]) == ticket.expires_at + timedelta(seconds=LEEWAY_S)
        await guest_ws.send(type="auth", token=issue_guest_ticket(ticket, settings=settings))
        assert (await guest_ws.expect("ready"))["renewed"] is True
        await guest_ws.send(type="auth", token=token_for(visit.patient, settings))
        assert (await closed_with(guest_ws))[0] == CLOSE_NOT_AUTHENTICATED
