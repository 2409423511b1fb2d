"""A small hospital whose report figures are worked out by hand in `test_reports.py`.

Everything happens in the week of Monday 2 March 2026 (the reports' range is [2 March, 9 March));
rows just outside the range are there to prove they are left out. Patients who only serve as
appointment or encounter subjects are registered after the range, so the demographics report,
which counts patients registered before its end, sees only the ones made for it.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from clinical.organisation.models import Department, Practitioner, Ward
from clinical.patients.models import Patient
from clinical.patients.terms import AdministrativeGender
from clinical.scheduling.models import (
    Appointment,
    AppointmentMode,
    AppointmentType,
    ExceptionReason,
    ScheduleException,
    WorkingHours,
)
from clinical.scheduling.state_machine import AppointmentStatus
from core.identity.models import User
from core.principal import Role
from devices.registry.models import Device, DeviceBinding, DeviceKind
from devices.vitals.coverage_hours import refresh_coverage_hours
from devices.vitals.models import VitalRollup1m
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus

START, END = date(2026, 3, 2), date(2026, 3, 9)
_serial = itertools.count(1)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A UTC moment in March 2026."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def _patient(
    birth: date | None, gender: AdministrativeGender, *, registered: datetime, **flags: bool
) -> Patient:
    n = next(_serial)
    return Patient(
        mrn=f"T{n:07d}", mrn_number=900_000 + n, given_name=f"G{n}", family_name=f"F{n}",
        given_name_key=f"g{n}", family_name_key=f"f{n}", birth_date=birth, gender=gender,
        created_at=registered, **flags,
    )  # fmt: skip


def demographics_patients() -> list[Patient]:
    g, before, during = AdministrativeGender, at(1), at(3)
    return [
        _patient(date(2010, 3, 8), g.FEMALE, registered=during),  # 16 on 8 March: 0-17
        _patient(date(2008, 3, 8), g.MALE, registered=before),  # 18 exactly on 8 March: 18-39
        _patient(date(2008, 3, 9), g.MALE, registered=before),  # 17 on 8 March: 0-17
        _patient(date(1980, 6, 1), g.FEMALE, registered=before),  # 45: 40-64
        _patient(date(1950, 1, 1), g.FEMALE, registered=before),  # 76: 65-79
        _patient(date(1946, 3, 8), g.OTHER, registered=before),  # 80 exactly: 80+
        _patient(None, g.UNKNOWN, registered=during),  # unknown age
        _patient(date(1990, 1, 1), g.MALE, registered=before, active=False),  # left out: inactive
        _patient(date(1990, 1, 1), g.MALE, registered=before, deceased=True),  # left out: deceased
        _patient(date(1990, 1, 1), g.MALE, registered=at(10)),  # left out: registered after the range
    ]


def subject() -> Patient:
    return _patient(date(1970, 1, 1), AdministrativeGender.FEMALE, registered=at(20))


async def load(session: AsyncSession) -> None:
    """Adds the whole small hospital; the caller commits."""
    session.add_all(demographics_patients())
    user = User(email=f"analytics-{uuid.uuid4().hex[:8]}@example.org", full_name="Dr Fixture",
                role=Role.CLINICIAN, password_hash="x")  # fmt: skip
    cardio, neuro = Department(code="CARD", name="Cardiology"), Department(code="NEUR", name="Neurology")
    session.add_all([user, cardio, neuro])
    await session.flush()
    a = Practitioner(given_name="Ada", family_name="Aalto", department_id=cardio.id)
    b = Practitioner(given_name="Ben", family_name="Berg", department_id=cardio.id)
    c = Practitioner(given_name="Cy", family_name="Cruz", department_id=neuro.id)
    session.add_all([a, b, c])
    await session.flush()
    await _schedules(session, a, b, c)
    await _encounters(session, user, a, b)
    await _alarms(session, cardio)
    await _devices(session)


def _hours(
    practitioner: Practitioner, weekday: int, start: time, end: time, zone: str = "UTC"
) -> WorkingHours:
    return WorkingHours(practitioner_id=practitioner.id, weekday=weekday, start_time=start, end_time=end,
                        time_zone=zone, valid_from=date(2026, 1, 1))  # fmt: skip


async def _schedules(session: AsyncSession, a: Practitioner, b: Practitioner, c: Practitioner) -> None:
    # A: Monday to Friday 09:00-17:00 UTC (5 x 480 min), less Wednesday morning's leave (240 min).
    session.add_all(_hours(a, day, time(9), time(17)) for day in range(1, 6))
    session.add(
        ScheduleException(
            practitioner_id=a.id, start_at=at(4, 9), end_at=at(4, 13), reason=ExceptionReason.LEAVE
        )
    )
    # B: Tuesday 09:00-12:00 in Berlin (UTC+1 in early March): 180 min.
    session.add(_hours(b, 2, time(9), time(12), "Europe/Berlin"))
    kind = AppointmentType(code=f"T{next(_serial)}", name="Consultation", mode=AppointmentMode.IN_PERSON,
                           duration_minutes=30)  # fmt: skip
    session.add(kind)
    await session.flush()
    s = AppointmentStatus
    plan = [
        (a, at(2, 9), 30, s.COMPLETED), (a, at(2, 9, 30), 30, s.COMPLETED), (a, at(3, 9), 30, s.NO_SHOW),
        (a, at(3, 10), 30, s.CANCELLED), (a, at(9, 9), 30, s.COMPLETED),  # the last: after the range
        (b, at(3, 8), 60, s.BOOKED), (c, at(5, 10), 20, s.COMPLETED),
    ]  # fmt: skip
    for practitioner, start, minutes, status in plan:
        patient = subject()
        session.add(patient)
        await session.flush()
        session.add(Appointment(patient_id=patient.id, practitioner_id=practitioner.id, appointment_type_id=kind.id,
                                start_at=start, end_at=start + timedelta(minutes=minutes), status=status))  # fmt: skip


async def _encounters(session: AsyncSession, user: User, a: Practitioner, b: Practitioner) -> None:
    patient = subject()
    session.add(patient)
    await session.flush()
    k, st = EncounterClass, EncounterStatus
    plan = [
        (a, k.AMBULATORY, st.FINISHED, at(2, 10), 10), (a, k.AMBULATORY, st.FINISHED, at(3, 11), 20),
        (a, k.AMBULATORY, st.FINISHED, at(4, 14), 45), (a, k.VIRTUAL, st.FINISHED, at(5, 9), 30),
        (b, k.AMBULATORY, st.IN_PROGRESS, at(3, 9), None), (b, k.AMBULATORY, st.CANCELLED, at(3, 10), None),
        (b, k.AMBULATORY, st.FINISHED, at(1, 10), 15), (b, k.INPATIENT, st.FINISHED, at(3, 12), 600),
    ]  # fmt: skip
    for practitioner, klass, status, started, minutes in plan:
        ended = started + timedelta(minutes=minutes) if minutes is not None else None
        session.add(Encounter(patient_id=patient.id, practitioner_id=practitioner.id, encounter_class=klass,
                              status=status, started_at=started, ended_at=ended, created_by=user.id))  # fmt: skip


async def _alarms(session: AsyncSession, cardio: Department) -> None:
    ward1 = Ward(department_id=cardio.id, code=f"W1-{next(_serial)}", name="Ward 1")
    ward2 = Ward(department_id=cardio.id, code=f"W2-{next(_serial)}", name="Ward 2")
    patient = subject()
    session.add_all([ward1, ward2, patient])
    await session.flush()
    p = AlarmPriority
    plan = [  # ward, priority, raised, seconds to acknowledge (None: never), escalated
        (ward1, p.HIGH, at(2, 8), 30, False), (ward1, p.HIGH, at(2, 9), 90, False),
        (ward1, p.HIGH, at(2, 10), None, True), (ward1, p.LOW, at(3, 8), 10, False),
        (ward2, p.MEDIUM, at(4, 8), 20, False), (ward2, p.MEDIUM, at(4, 9), 40, False),
        (ward2, p.HIGH, at(1, 8), 5, False),  # raised before the range
    ]  # fmt: skip
    for ward, priority, raised, wait_s, escalated in plan:
        acked = raised + timedelta(seconds=wait_s) if wait_s is not None else None
        session.add(Alarm(patient_id=patient.id, ward_id=ward.id, kind=AlarmKind.THRESHOLD,
                          condition_key=f"fixture:{next(_serial)}", code="fixture", priority=priority,
                          status=AlarmStatus.RESOLVED, raised_at=raised, acknowledged_at=acked,
                          resolved_at=raised + timedelta(minutes=10),
                          escalated_at=raised + timedelta(minutes=2) if escalated else None))  # fmt: skip


def _rollups(
    patient: Patient, device_id: str, first: datetime, minutes: int, metric: str
) -> list[VitalRollup1m]:
    return [
        VitalRollup1m(
            bucket=first + timedelta(minutes=i),
            patient_id=patient.id,
            device_id=device_id,
            metric=metric,
            min_value=70,
            max_value=72,
            sum_value=142,
            count=2,
        )
        for i in range(minutes)
    ]


async def _devices(session: AsyncSession) -> None:
    patient = subject()
    devices = [
        Device(
            device_id=f"fixture-{name}-{uuid.uuid4().hex[:6]}",
            kind=DeviceKind.BEDSIDE_MONITOR,
            manufacturer="Acme",
            model="M1",
            serial=name,
        )
        for name in ("d1", "d2", "d3")
    ]
    session.add_all([patient, *devices])
    await session.flush()
    d1, d2, _unbound = devices
    session.add(DeviceBinding(device_uuid=d1.id, patient_id=patient.id, start_at=at(2), end_at=at(3)))
    session.add(DeviceBinding(device_uuid=d2.id, patient_id=patient.id, start_at=at(8, 12)))
    # d1: 00:00-00:59 (two metrics, the same minutes), 01:10-01:19 (after an 11-minute step: a gap),
    # 01:22-01:23 (a 3-minute step: no gap), and a minute before the range, left out.
    session.add_all(_rollups(patient, d1.device_id, at(2), 60, "8867-4"))
    session.add_all(_rollups(patient, d1.device_id, at(2), 60, "59408-5"))
    session.add_all(_rollups(patient, d1.device_id, at(2, 1, 10), 10, "8867-4"))
    session.add_all(_rollups(patient, d1.device_id, at(2, 1, 22), 2, "8867-4"))
    session.add_all(_rollups(patient, d1.device_id, at(1, 23, 59), 1, "8867-4"))
    await session.flush()
    # Rollups written directly, as the benchmark does: their hours are summarised the same way after.
    await refresh_coverage_hours(session, since=at(1), until=at(9), device_ids=[d1.device_id])
