"""What the consult pages build on: each person's video visits with their rooms' hours and state,
a refused early join that says when to come back, a reconnection that skips the waiting room once
admitted (not after a removal), and microphone and camera states relayed to the others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import AppointmentMode
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from tests.builders import bearer, create_user
from tests.clinical.scheduling_builders import appointment_row, appointment_type
from tests.realtime.consult_helpers import consult_client, video_visit
from tests.realtime.hub_helpers import serve_app, token_for

pytestmark = pytest.mark.asyncio
VISITS = "/api/v1/consults/visits"


@pytest.fixture(scope="module")
async def url(settings: Settings) -> AsyncIterator[str]:
    async with serve_app(settings) as running:
        yield running.url.replace("/ws", "/ws/consult")


def around_now() -> dict[str, str]:
    now = utc_now()
    return {
        "start_from": (now - timedelta(hours=12)).isoformat(),
        "start_to": (now + timedelta(days=2)).isoformat(),
    }


async def test_patients_and_clinicians_list_their_own_video_visits_with_their_rooms_hours(
    client: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)  # starts in 5 minutes: its room is open
    patient_id, practitioner_id = visit.appointment.patient_id, visit.appointment.practitioner_id
    video = await appointment_type(sessions, mode=AppointmentMode.VIDEO, duration_minutes=20)
    soon = utc_now().replace(microsecond=0)
    later = await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        kind=video,
        start_at=soon + timedelta(hours=3),
    )
    done, cancelled = [
        await appointment_row(
            sessions,
            patient_id=patient_id,
            practitioner_id=practitioner_id,
            kind=video,
            start_at=soon - timedelta(hours=hours),
            status=status,
        )
        for hours, status in ((2, AppointmentStatus.COMPLETED), (4, AppointmentStatus.CANCELLED))
    ]
    in_person = await appointment_type(sessions, mode=AppointmentMode.IN_PERSON)
    await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        kind=in_person,
        start_at=soon + timedelta(hours=6),
    )
    other = await video_visit(sessions, passwords=False)

    answer = await client.get(VISITS, params=around_now(), headers=bearer(token_for(visit.patient, settings)))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    states = [(v["appointment_id"], v["state"]) for v in body["visits"]]
    assert states == [
        (str(cancelled.id), "cancelled"),
        (str(done.id), "finished"),
        (str(visit.room), "open"),
        (str(later.id), "upcoming"),
    ]
    first_open = body["visits"][2]
    assert datetime.fromisoformat(first_open["opens_at"]) == visit.appointment.start_at - timedelta(
        minutes=15
    )
    assert first_open["practitioner_name"].endswith(visit.practitioner.family_name)
    assert abs(datetime.fromisoformat(body["server_time"]) - utc_now()) < timedelta(minutes=1)

    # The clinician sees the same visits (with the patient's name), and nobody else's.
    answer = await client.get(
        VISITS, params=around_now(), headers=bearer(token_for(visit.clinician, settings))
    )
    listed = answer.json()["visits"]
    assert {v["appointment_id"] for v in listed} == {
        str(x) for x in (cancelled.id, done.id, visit.room, later.id)
    }
    assert str(other.room) not in {v["appointment_id"] for v in listed}
    assert listed[0]["patient_name"] and listed[0]["patient_name"] != "Test Patient"

    nurse, _ = await create_user(sessions, role=Role.NURSE)
    refused = await client.get(VISITS, params=around_now(), headers=bearer(token_for(nurse, settings)))
    assert refused.status_code == 403
    async with sessions() as session:
        denied = await session.scalar(
            select(AuditEvent).where(AuditEvent.actor_id == nurse.id, AuditEvent.outcome == "denied")
        )
    assert denied is not None and denied.resource_type == "consult_room"
    too_long = {"start_from": soon.isoformat(), "start_to": (soon + timedelta(days=40)).isoformat()}
    assert (
        await client.get(VISITS, params=too_long, headers=bearer(token_for(visit.patient, settings)))
    ).status_code == 422


async def test_an_early_join_is_refused_with_the_time_the_room_opens(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, starts_in=timedelta(hours=3), passwords=False)
    async with consult_client(url, token_for(visit.patient, settings)) as ws:
        refused = await ws.join(visit.room)
    assert refused["code"] == "room-not-open"
    assert (
        refused["detail"] == "This consult room is not open yet: it opens 15 minutes before the appointment."
    )
    assert datetime.fromisoformat(refused["retry_at"]) == visit.appointment.start_at - timedelta(minutes=15)


async def test_an_admitted_patient_who_reconnects_skips_the_waiting_room_unless_removed_since(
    url: str, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    token = token_for(visit.patient, settings)
    async with consult_client(url, token_for(visit.clinician, settings)) as clinician_ws:
        clinician_id = (await clinician_ws.join(visit.room))["participant"]["id"]
        async with consult_client(url, token) as patient_ws:
            patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
            await clinician_ws.send(type="admit", participant=patient_id)
            await patient_ws.expect("admitted")
            await clinician_ws.expect("peer-joined")
            # Microphone and camera states reach the others, not the sender.
            await patient_ws.send(type="media", audio=False, video=True)
            relayed = await clinician_ws.expect("peer-media")
            assert (relayed["from"], relayed["audio"], relayed["video"]) == (patient_id, False, True)
        assert (await clinician_ws.expect("peer-left"))["reason"] == "disconnected"

        async with consult_client(url, token) as patient_ws:
            joined = await patient_ws.join(visit.room)
            assert joined["participant"]["status"] == "admitted"
            admitted = await patient_ws.expect("admitted")
            assert [p["id"] for p in admitted["peers"]] == [clinician_id]
            back = await clinician_ws.expect("peer-joined")
            assert back["participant"]["id"] == joined["participant"]["id"]
            await clinician_ws.send(type="remove", participant=joined["participant"]["id"])
            await patient_ws.expect("removed")

        async with consult_client(url, token) as patient_ws:
            assert (await patient_ws.join(visit.room))["participant"]["status"] == "waiting"
