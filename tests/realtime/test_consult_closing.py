"""Consultations whose room closed without "end", finished by `ownat worker`'s job against PostgreSQL:
the encounter finished at the last step of the timeline and the appointment completed, by SYSTEM and
audited once; open rooms and ended consultations untouched; two jobs at once finishing it once.

Time moves by booking the appointments in the past and moving the consultation's times back to
match; the job reads the clock, nothing waits."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.charges.models import ChargeItem
from clinical.encounters.models import Encounter, EncounterStatus
from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.db import utc_now
from core.principal import SYSTEM_USER_ID
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from notifications.worker import WorkerIntervals
from realtime.consult import records
from realtime.consult.closing import REASON, close_abandoned_consultations
from realtime.consult.models import ConsultEvent, ConsultEventKind, ConsultSession
from realtime.consult.state import Member
from tests.devices.ingest_helpers import wait_until
from tests.notifications.builders import notification_settings, worker
from tests.realtime.consult_helpers import VideoVisit, video_visit

pytestmark = pytest.mark.asyncio


@dataclass
class Begun:
    visit: VideoVisit
    consult_id: uuid.UUID
    encounter_id: uuid.UUID
    left_at: datetime  # when the patient's socket dropped: the last step of the timeline


def _patient_member(visit: VideoVisit) -> Member:
    user = visit.patient
    return Member(id=uuid.uuid4(), key=f"user:{user.id}", role="patient", display_name=user.full_name,
                  status="admitted", instance="test", user_id=user.id)  # fmt: skip


async def begun_consultation(sessions: async_sessionmaker[AsyncSession], *, started_ago: timedelta) -> Begun:
    """A 20-minute video appointment that started `started_ago`: the patient was admitted at the start
    and left 12 minutes in; nobody sent "end". Its encounter is in progress."""
    visit = await video_visit(sessions, starts_in=-started_ago, passwords=False)
    clinician = visit.clinician.as_principal()
    start = visit.appointment.start_at
    left_at = start + timedelta(minutes=12)
    async with transaction(sessions) as session:
        consult = await records.open_session(
            session=session, room=visit.room, patient_id=visit.appointment.patient_id
        )
        patient = _patient_member(visit)
        await records.record_event(session=session, consult=consult, kind=ConsultEventKind.ADMIT,
                                   member=patient, actor=clinician, at=start)  # fmt: skip
        await records.start_consultation(session=session, consult=consult, clinician=clinician)
        await records.record_event(session=session, consult=consult, kind=ConsultEventKind.LEAVE,
                                   member=patient, actor=None, at=left_at)  # fmt: skip
        assert consult.encounter_id is not None
        # Back to when it happened: the services stamp the real clock.
        await session.execute(
            update(ConsultSession)
            .where(ConsultSession.id == consult.id)
            .values(opened_at=start, started_at=start)
        )
        await session.execute(
            update(Encounter).where(Encounter.id == consult.encounter_id).values(started_at=start)
        )
        consult_id, encounter_id = consult.id, consult.encounter_id
    return Begun(visit=visit, consult_id=consult_id, encounter_id=encounter_id, left_at=left_at)


async def _state(
    sessions: async_sessionmaker[AsyncSession], begun: Begun
) -> tuple[ConsultSession, Encounter, Appointment, list[AuditEvent]]:
    async with sessions() as session:
        consult = await session.get(ConsultSession, begun.consult_id)
        encounter = await session.get(Encounter, begun.encounter_id)
        appointment = await session.get(Appointment, begun.visit.room)
        closes = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.resource_type == records.RESOURCE,
                AuditEvent.resource_id == str(begun.consult_id),
                AuditEvent.action == "close",
            )
        )
        assert consult is not None and encounter is not None and appointment is not None
        return consult, encounter, appointment, list(closes)


async def _finish_audits(
    sessions: async_sessionmaker[AsyncSession], encounter_id: uuid.UUID
) -> list[AuditEvent]:
    async with sessions() as session:
        found = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.resource_type == "encounter",
                AuditEvent.resource_id == str(encounter_id),
                AuditEvent.action == "finish",
            )
        )
        return list(found)


async def test_a_closed_rooms_encounter_is_finished_at_its_last_step_and_the_appointment_completed(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Scheduled end 70 minutes ago: the room (closing an hour after the end) closed 10 minutes ago.
    begun = await begun_consultation(sessions, started_ago=timedelta(minutes=90))
    assert await close_abandoned_consultations(sessions=sessions, settings=settings, now=utc_now()) >= 1

    consult, encounter, appointment, closes = await _state(sessions, begun)
    assert encounter.status is EncounterStatus.FINISHED
    # Billed for the twelve minutes it lasted, not for the hour the room stayed open.
    assert encounter.ended_at == begun.left_at == consult.ended_at
    assert consult.ended_by is None
    assert appointment.status is AppointmentStatus.COMPLETED
    assert [(e.actor_id, e.detail["reason"], e.outcome) for e in closes] == [
        (SYSTEM_USER_ID, REASON, "success")
    ]
    assert [e.actor_id for e in await _finish_audits(sessions, begun.encounter_id)] == [SYSTEM_USER_ID]
    # Finishing makes no charges by itself (billing charges a finished encounter when asked).
    async with sessions() as session:
        assert await session.scalar(select(ChargeItem).where(ChargeItem.encounter_id == encounter.id)) is None


async def test_a_room_still_open_is_left_alone(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # Scheduled end 10 minutes ago: the room is open for another 50.
    begun = await begun_consultation(sessions, started_ago=timedelta(minutes=30))
    await close_abandoned_consultations(sessions=sessions, settings=settings, now=utc_now())

    consult, encounter, appointment, closes = await _state(sessions, begun)
    assert encounter.status is EncounterStatus.IN_PROGRESS and encounter.ended_at is None
    assert consult.ended_at is None
    assert appointment.status is AppointmentStatus.IN_PROGRESS
    assert closes == []


async def test_a_consultation_the_clinician_ended_is_left_alone(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    begun = await begun_consultation(sessions, started_ago=timedelta(minutes=90))
    clinician = begun.visit.clinician.as_principal()
    async with transaction(sessions) as session:
        consult = await session.get(ConsultSession, begun.consult_id)
        assert consult is not None
        await records.end_consultation(session=session, consult=consult, clinician=clinician)
    ended = (await _state(sessions, begun))[0].ended_at

    await close_abandoned_consultations(sessions=sessions, settings=settings, now=utc_now())
    consult, encounter, appointment, closes = await _state(sessions, begun)
    assert (consult.ended_at, consult.ended_by) == (ended, begun.visit.clinician.id)
    assert encounter.status is EncounterStatus.FINISHED and encounter.ended_at == ended
    assert appointment.status is AppointmentStatus.COMPLETED
    assert closes == []
    assert [e.actor_id for e in await _finish_audits(sessions, begun.encounter_id)] == [
        begun.visit.clinician.id
    ]


async def test_two_jobs_at_once_finish_a_consultation_once(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    begun = await begun_consultation(sessions, started_ago=timedelta(minutes=90))
    now = utc_now()
    await asyncio.gather(
        *(close_abandoned_consultations(sessions=sessions, settings=settings, now=now) for _ in range(2))
    )

    consult, encounter, appointment, closes = await _state(sessions, begun)
    assert encounter.status is EncounterStatus.FINISHED and consult.ended_at == begun.left_at
    assert appointment.status is AppointmentStatus.COMPLETED
    assert len(closes) == 1
    assert len(await _finish_audits(sessions, begun.encounter_id)) == 1
    async with sessions() as session:
        events = await session.scalars(
            select(ConsultEvent.kind).where(ConsultEvent.consult_session_id == consult.id)
        )
        assert sorted(events) == [ConsultEventKind.ADMIT, ConsultEventKind.LEAVE]


async def test_one_that_fails_unexpectedly_holds_up_neither_the_others_nor_the_next_pass(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = await begun_consultation(sessions, started_ago=timedelta(minutes=100))
    other = await begun_consultation(sessions, started_ago=timedelta(minutes=90))
    close = records.close_consultation

    async def close_unless_failing(**kwargs: object) -> None:
        consult = kwargs["consult"]
        assert isinstance(consult, ConsultSession)
        if consult.id == failing.consult_id:
            raise RuntimeError("a bug in finishing this one")
        await close(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "close_consultation", close_unless_failing)
    await close_abandoned_consultations(sessions=sessions, settings=settings, now=utc_now())
    assert (await _state(sessions, failing))[1].status is EncounterStatus.IN_PROGRESS
    assert (await _state(sessions, other))[1].status is EncounterStatus.FINISHED

    monkeypatch.setattr(records, "close_consultation", close)
    await close_abandoned_consultations(sessions=sessions, settings=settings, now=utc_now())
    assert (await _state(sessions, failing))[1].status is EncounterStatus.FINISHED


async def test_ownat_workers_loop_finishes_them(
    sessions: async_sessionmaker[AsyncSession], resources: Resources
) -> None:
    begun = await begun_consultation(sessions, started_ago=timedelta(minutes=90))
    the_worker = worker(resources, notification_settings())
    the_worker.intervals = WorkerIntervals(poll_s=0.05)
    stop = asyncio.Event()
    loop = asyncio.create_task(the_worker.run(stop))
    try:

        async def finished() -> bool:
            return (await _state(sessions, begun))[1].status is EncounterStatus.FINISHED

        await wait_until(finished, what="the worker to finish the consultation")
    finally:
        stop.set()
        await loop
        await the_worker.close()
    assert len((await _state(sessions, begun))[3]) == 1
