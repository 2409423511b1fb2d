"""Who may do what in a consult room: third parties refused at every step, guests by invitation only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import Appointment, AppointmentMode
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.db import utc_now
from core.identity.models import User
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from realtime.consult.models import ConsultInvitation
from realtime.consult.protocol import CLOSE_REMOVED
from realtime.socket_signin import CLOSE_NOT_AUTHENTICATED
from tests.builders import bearer, create_user
from tests.clinical.builders import create_patient_user, create_practitioner
from tests.realtime.consult_helpers import consult_client, video_visit
from tests.realtime.hub_helpers import serve_app, token_for

pytestmark = pytest.mark.asyncio

TURN_SECRET = "turn-shared-secret-for-tests"
API = "/api/v1/consults"
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", "sdpMid": "0"}


@pytest.fixture(scope="module")
async def url(settings: Settings) -> AsyncIterator[str]:
    """One server for the module, with STUN and TURN configured."""
    configured = settings.model_copy(
        update={
            "stun_urls": ["stun:turn.example.org:3478"],
            "turn_urls": ["turn:turn.example.org:3478?transport=udp"],
            "turn_secret": SecretStr(TURN_SECRET),
            "turn_credential_ttl_s": 600,
        }
    )
    async with serve_app(configured) as running:
        yield running.url.replace("/ws", "/ws/consult")


@dataclass
class Outsiders:
    """People with accounts but no part in the test's appointments."""

    patient: User
    nurse: User
    clinician: User
    admin: User


@pytest.fixture(scope="module")
async def outsiders(resources: Resources) -> Outsiders:
    sessions = resources.sessions
    patient, _, _ = await create_patient_user(sessions)
    _, clinician, _ = await create_practitioner(sessions)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    admin, _ = await create_user(sessions, role=Role.ADMIN)
    return Outsiders(patient=patient, nurse=nurse, clinician=clinician, admin=admin)


def headers_of(user: User, settings: Settings) -> dict[str, str]:
    return bearer(token_for(user, settings))


async def test_third_parties_are_refused_at_join_and_the_refusal_is_audited(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession], outsiders: Outsiders
) -> None:
    visit = await video_visit(sessions, passwords=False)
    everyone = (outsiders.patient, outsiders.nurse, outsiders.clinician, outsiders.admin)
    for outsider in everyone:
        async with consult_client(url, token_for(outsider, settings)) as ws:
            refused = await ws.join(visit.room)
            assert (refused["type"], refused["code"]) == ("error", "forbidden"), refused
            # Not in the room: nothing can be sent to anyone there.
            messages: tuple[dict[str, Any], ...] = (
                {"type": "offer", "to": str(uuid.uuid4()), "sdp": SDP},
                {"type": "ice", "to": str(uuid.uuid4()), "candidate": CANDIDATE},
                {"type": "chat", "text": "hello"},
                {"type": "admit", "participant": str(uuid.uuid4())},
                {"type": "end"},
            )
            for message in messages:
                await ws.send(**message)
                assert (await ws.error_for(message["type"]))["code"] == "not-joined"
    async with sessions() as session:
        denied = set(
            await session.scalars(
                select(AuditEvent.actor_id).where(
                    AuditEvent.resource_type == "consult_room",
                    AuditEvent.resource_id == str(visit.room),
                    AuditEvent.outcome == "denied",
                )
            )
        )
    assert denied == {outsider.id for outsider in everyone}


async def test_a_waiting_patient_cannot_signal_and_no_one_reaches_another_room(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit, elsewhere = (
        await video_visit(sessions, passwords=False),
        await video_visit(sessions, passwords=False),
    )
    async with (
        consult_client(url, token_for(visit.patient, settings)) as patient_ws,
        consult_client(url, token_for(visit.clinician, settings)) as clinician_ws,
        consult_client(url, token_for(elsewhere.clinician, settings)) as stranger_ws,
    ):
        patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
        clinician_id = (await clinician_ws.join(visit.room))["participant"]["id"]
        stranger_id = (await stranger_ws.join(elsewhere.room))["participant"]["id"]
        for message in (
            {"type": "offer", "to": clinician_id, "sdp": SDP},
            {"type": "ice", "to": clinician_id, "candidate": CANDIDATE},
            {"type": "chat", "text": "let me in"},
        ):
            await patient_ws.send(**message)
            assert (await patient_ws.error_for(message["type"]))["code"] == "not-admitted"
        # The patient may not run the room.
        for message in ({"type": "admit", "participant": patient_id}, {"type": "end"}):
            await patient_ws.send(**message)
            assert (await patient_ws.error_for(message["type"]))["code"] == "forbidden"
        # The clinician cannot signal to a waiting patient, nor to someone in another room.
        for to in (patient_id, stranger_id):
            await clinician_ws.send(type="offer", to=to, sdp=SDP)
            assert (await clinician_ws.error_for("offer"))["code"] == "unknown-peer"
        await stranger_ws.send(type="ice", to=clinician_id, candidate=CANDIDATE)
        assert (await stranger_ws.error_for("ice"))["code"] == "unknown-peer"
        # Invalid messages are refused with a reason, and the socket stays usable.
        await clinician_ws.send(type="chat", text="x" * 2001)
        assert (await clinician_ws.error_for("chat"))["code"] == "invalid-message"
        await clinician_ws.ws.send("{" + "x" * 70_000)
        assert (await clinician_ws.expect("error"))["code"] == "too-large"
        await clinician_ws.send(type="shout")
        assert (await clinician_ws.expect("error"))["code"] == "unknown-type"
        await clinician_ws.send(type="ping", seq=7)
        assert (await clinician_ws.expect("pong"))["seq"] == 7


async def test_joined_carries_ice_servers_with_coturn_credentials(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    async with consult_client(url, token_for(visit.patient, settings)) as ws:
        joined = await ws.join(visit.room)
    stun, turn = joined["ice_servers"]
    assert stun == {"urls": ["stun:turn.example.org:3478"], "username": None, "credential": None}
    expiry, user_key = turn["username"].split(":", 1)
    assert user_key == f"user:{visit.patient.id}"
    expected = base64.b64encode(
        hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
    )
    assert turn["credential"] == expected.decode()
    expires_at = datetime.fromisoformat(joined["ice_expires_at"])
    assert int(expiry) == int(expires_at.timestamp())
    assert timedelta(seconds=590) < expires_at - utc_now() <= timedelta(seconds=600)


async def test_rooms_open_only_for_booked_video_appointments_near_their_time(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    later = await video_visit(sessions, starts_in=timedelta(hours=3), passwords=False)
    in_person = await video_visit(sessions, mode=AppointmentMode.IN_PERSON, passwords=False)
    cancelled = await video_visit(sessions, passwords=False)
    async with transaction(sessions) as session:
        await session.execute(
            update(Appointment)
            .where(Appointment.id == cancelled.room)
            .values(status=AppointmentStatus.CANCELLED)
        )
    async with consult_client(url, token_for(later.patient, settings)) as ws:
        refused = await ws.join(later.room)
        assert (refused["code"], "not open yet" in refused["detail"]) == ("room-not-open", True)
    async with consult_client(url, token_for(in_person.clinician, settings)) as ws:
        assert (await ws.join(in_person.room))["detail"] == "This appointment is not a video consultation."
    async with consult_client(url, token_for(cancelled.clinician, settings)) as ws:
        assert "over" in (await ws.join(cancelled.room))["detail"]
    async with consult_client(url, token_for(later.patient, settings)) as ws:
        assert (await ws.join(uuid.uuid4()))["code"] == "not-found"


async def test_a_bad_token_closes_the_socket(url: str) -> None:
    async with consult_client(url, None) as ws:
        await ws.send(type="auth", token="not-a-token")
        assert await ws.closed_with() == CLOSE_NOT_AUTHENTICATED
    async with consult_client(url, None) as ws:
        await ws.send(type="join", room=uuid.uuid4())
        assert await ws.closed_with() == CLOSE_NOT_AUTHENTICATED


async def _invite(
    client: httpx.AsyncClient, headers: dict[str, str], room: uuid.UUID, **body: object
) -> dict:
    response = await client.post(
        f"{API}/{room}/invitations", json={"display_name": "Interpreter", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_guest_joins_once_by_invitation_and_is_removed_for_good(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    visit = await video_visit(sessions, passwords=False)
    clinician = visit.clinician
    headers = headers_of(clinician, settings)
    invitation = await _invite(client, headers, visit.room)
    assert invitation["link_path"].endswith(f"#invite={invitation['token']}")
    redeemed = await client.post(f"{API}/invitations/redeem", json={"token": invitation["token"]})
    assert redeemed.status_code == 200, redeemed.text
    ticket = redeemed.json()
    # Single use: the same link again is refused, as is a made-up one.
    for token in (invitation["token"], "x" * 43):
        again = await client.post(f"{API}/invitations/redeem", json={"token": token})
        assert again.status_code == 401
    # The ticket is for this room only, and is no access token for the REST API.
    assert (
        await client.get(f"{API}/{visit.room}", headers={"Authorization": f"Bearer {ticket['ticket']}"})
    ).status_code == 401
    other = await video_visit(sessions, passwords=False)
    async with (
        consult_client(url, token_for(clinician, settings)) as clinician_ws,
        consult_client(url, ticket["ticket"]) as guest_ws,
    ):
        assert (await guest_ws.join(other.room))["code"] == "not-found"
        joined = await guest_ws.join(visit.room)
        guest_id = joined["participant"]["id"]
        assert (joined["participant"]["role"], joined["participant"]["status"]) == ("guest", "waiting")
        await clinician_ws.join(visit.room)
        await clinician_ws.send(type="admit", participant=guest_id)
        await guest_ws.expect("admitted")
        await clinician_ws.send(type="remove", participant=guest_id, reason="finished interpreting")
        assert (await guest_ws.expect("removed"))["reason"] == "finished interpreting"
        assert await guest_ws.closed_with() == CLOSE_REMOVED
        assert (await clinician_ws.expect("peer-left"))["participant"] == guest_id
    async with consult_client(url, ticket["ticket"]) as guest_ws:
        assert (await guest_ws.join(visit.room))["detail"] == "This invitation has been withdrawn."


async def test_expired_and_withdrawn_invitations_are_refused(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient
) -> None:
    visit = await video_visit(sessions, passwords=False)
    headers = headers_of(visit.clinician, settings)
    expired, withdrawn = (
        await _invite(client, headers, visit.room),
        await _invite(client, headers, visit.room),
    )
    async with transaction(sessions) as session:
        await session.execute(
            update(ConsultInvitation)
            .where(ConsultInvitation.id == uuid.UUID(expired["id"]))
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    deleted = await client.delete(f"{API}/{visit.room}/invitations/{withdrawn['id']}", headers=headers)
    assert deleted.status_code == 204
    for invitation in (expired, withdrawn):
        response = await client.post(f"{API}/invitations/redeem", json={"token": invitation["token"]})
        assert response.status_code == 401, response.text
    listed = await client.get(f"{API}/{visit.room}/invitations", headers=headers)
    assert {row["id"]: row["revoked_at"] is not None for row in listed.json()} == {
        expired["id"]: False,
        withdrawn["id"]: True,
    }
    async with sessions() as session:
        hashes = set(
            await session.scalars(
                select(ConsultInvitation.token_hash).where(ConsultInvitation.appointment_id == visit.room)
            )
        )
    assert expired["token"] not in hashes and len(hashes) == 2


async def test_rest_endpoints_refuse_by_role(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    outsiders: Outsiders,
) -> None:
    visit = await video_visit(sessions, passwords=False)
    as_other_patient = headers_of(outsiders.patient, settings)
    as_nurse = headers_of(outsiders.nurse, settings)
    as_other_clinician = headers_of(outsiders.clinician, settings)
    body = {"display_name": "Relative"}
    for path in ("/invitations", "", "/chat", "/ice-servers"):
        assert (await client.get(f"{API}/{visit.room}{path}")).status_code == 401
    assert (await client.post(f"{API}/{visit.room}/invitations", json=body)).status_code == 401
    for headers in (as_other_patient, as_nurse, as_other_clinician):
        response = await client.post(f"{API}/{visit.room}/invitations", json=body, headers=headers)
        assert response.status_code == 403, response.text
        assert (await client.get(f"{API}/{visit.room}/invitations", headers=headers)).status_code == 403
    for path in ("", "/chat"):
        assert (await client.get(f"{API}/{visit.room}{path}", headers=as_other_patient)).status_code == 403
    for headers in (as_other_patient, as_nurse, as_other_clinician):
        assert (await client.get(f"{API}/{visit.room}/ice-servers", headers=headers)).status_code == 403


async def test_leaving_and_rejoining_and_an_ice_restart_offer_is_relayed_as_such(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    async with (
        consult_client(url, token_for(visit.patient, settings)) as patient_ws,
        consult_client(url, token_for(visit.clinician, settings)) as clinician_ws,
    ):
        clinician_id = (await clinician_ws.join(visit.room))["participant"]["id"]
        assert (await clinician_ws.expect("waiting"))["waiting"] == []
        patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
        assert [p["id"] for p in (await clinician_ws.expect("waiting"))["waiting"]] == [patient_id]
        await patient_ws.send(type="leave")
        assert (await clinician_ws.expect("waiting"))["waiting"] == []
        # The same socket may join again; it is a new participant in the waiting room.
        patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
        await clinician_ws.expect("waiting")
        await clinician_ws.send(type="admit", participant=patient_id)
        await patient_ws.expect("admitted")
        await patient_ws.send(type="offer", to=clinician_id, sdp=SDP, purpose="ice-restart")
        relayed = await clinician_ws.expect("offer")
        assert (relayed["from"], relayed["purpose"], relayed["sdp"]) == (patient_id, "ice-restart", SDP)
        await patient_ws.send(type="leave")
        left = await clinician_ws.expect("peer-left")
        assert (left["participant"], left["reason"]) == (patient_id, "left")


async def test_a_flood_of_messages_is_refused_not_relayed(
    url: str, settings: Settings, outsiders: Outsiders
) -> None:
    # An unbounded client queue: with the default (16) the client stops reading behind the refusals
    # it has not consumed, misses the server's close reply and waits out its close timeout.
    async with consult_client(url, token_for(outsiders.nurse, settings), max_queue=None) as ws:
        # Twice the burst allowance: even a server slowed down tenfold refuses part of it.
        # Pongs, which the server does not answer: the only answers are the refusals.
        for seq in range(400):
            await ws.send(type="pong", seq=seq)
        refused = await ws.expect("error")
        assert refused["code"] == "rate-limited"
