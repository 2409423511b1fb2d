"""Video appointments for the benchmark, written straight to a scratch database (no password hashing)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from clinical import organisation, patients
from clinical.organisation import PractitionerCreate
from clinical.patients import PatientCreate
from clinical.scheduling import Appointment, AppointmentMode, AppointmentType
from core.db import create_engine, utc_now
from core.identity import User, issue_access_token
from core.principal import SYSTEM, Role
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class Visit:
    room: uuid.UUID
    patient_token: str
    clinician_token: str


# Not a hash of anything: no password can ever match it.
NO_PASSWORD = "!"  # noqa: S105


def _token(user: User, settings: Settings) -> str:
    return issue_access_token(user.as_principal(token_id=secrets.token_hex(8)), settings=settings)[0]


def _user(role: Role, patient_id: uuid.UUID | None = None) -> User:
    # Never signs in with a password: the benchmark issues its access tokens directly.
    return User(
        id=uuid.uuid4(),
        email=f"bench-{secrets.token_hex(6)}@example.org",
        full_name="Bench User",
        role=role,
        patient_id=patient_id,
        password_hash=NO_PASSWORD,
    )


async def create_visits(settings: Settings, count: int) -> list[Visit]:
    """`count` video appointments starting in five minutes, each with its own patient and clinician."""
    engine = create_engine(settings.effective_database_url)
    sessions = create_sessionmaker(engine)
    visits = []
    try:
        async with transaction(sessions) as session:
            kind = AppointmentType(
                code=f"bench-{secrets.token_hex(4)}",
                name="Video",
                mode=AppointmentMode.VIDEO,
                duration_minutes=20,
            )
            session.add(kind)
            await session.flush()
            start = utc_now().replace(microsecond=0) + timedelta(minutes=5)
            for n in range(count):
                patient = await patients.create_patient(
                    session=session,
                    actor=SYSTEM,
                    data=PatientCreate(
                        given_name="Bench", family_name=f"Patient{n}", birth_date=date(1970, 1, 1)
                    ),
                )
                patient_user, clinician_user = _user(Role.PATIENT, patient.id), _user(Role.CLINICIAN)
                session.add_all([patient_user, clinician_user])
                await session.flush()
                practitioner = await organisation.create_practitioner(
                    session=session,
                    actor=SYSTEM,
                    data=PractitionerCreate(
                        user_id=clinician_user.id, given_name="Bench", family_name=f"Doc{n}"
                    ),
                )
                appointment = Appointment(
                    id=uuid.uuid4(),
                    patient_id=patient.id,
                    practitioner_id=practitioner.id,
                    appointment_type_id=kind.id,
                    start_at=start,
                    end_at=start + timedelta(minutes=20),
                )
                session.add(appointment)
                visits.append(
                    Visit(
                        room=appointment.id,
                        patient_token=_token(patient_user, settings),
                        clinician_token=_token(clinician_user, settings),
                    )
                )
    finally:
        await engine.dispose()
    return visits
