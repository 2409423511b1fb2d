"""The published demo accounts, created through the identity service when missing.

Their passwords are published in the README and printed at start, so production refuses the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import patients
from clinical.patients import Patient
from core import identity
from core.identity import PatientRegistration, StaffCreate, User
from core.principal import SYSTEM, Role
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class DemoAccount:
    email: str
    password: str
    role: Role
    full_name: str


DEMO_ACCOUNTS = (
    DemoAccount("admin@demo.ownat.org", "Copper-Harbour-41", Role.ADMIN, "Alex Admin"),
    DemoAccount("clinician@demo.ownat.org", "Maple-Stethoscope-72", Role.CLINICIAN, "Dr Casey Morgan"),
    DemoAccount("nurse@demo.ownat.org", "Quiet-Ward-Lamp-19", Role.NURSE, "Noor Haddad"),
    DemoAccount("patient@demo.ownat.org", "Blue-Kite-Morning-8", Role.PATIENT, "Pat Jensen"),
    DemoAccount("billing@demo.ownat.org", "Amber-Ledger-Quill-64", Role.BILLING, "Robin Okoye"),
)


@dataclass(frozen=True, slots=True)
class DemoUsers:
    """The demo accounts' users, by role."""

    admin: User
    clinician: User
    nurse: User
    patient: User


def account(role: Role) -> DemoAccount:
    """The published demo account of `role`."""
    return next(a for a in DEMO_ACCOUNTS if a.role is role)


async def ensure_accounts(session: AsyncSession, settings: Settings) -> tuple[DemoUsers, bool]:
    """The demo users, creating any that are missing (and the patient's clinical record); True if any was."""
    created = False
    users: dict[Role, User] = {}
    for demo in DEMO_ACCOUNTS:
        user = await session.scalar(select(User).where(User.email == demo.email))
        if user is None:
            user = await _create(session, demo, settings)
            created = True
        users[demo.role] = user
    patient = users[Role.PATIENT]
    assert patient.patient_id is not None  # every patient account owns a record id
    # An older demo (or the embedded live feed) may have made the account without its record.
    if await session.get(Patient, patient.patient_id) is None:
        await patients.register_online_patient(
            session=session,
            actor=patient.as_principal(),
            user_id=patient.id,
            patient_id=patient.patient_id,
            full_name=patient.full_name,
            email=patient.email,
        )
        created = True
    return DemoUsers(users[Role.ADMIN], users[Role.CLINICIAN], users[Role.NURSE], patient), created


async def _create(session: AsyncSession, demo: DemoAccount, settings: Settings) -> User:
    if demo.role is Role.PATIENT:
        registration = PatientRegistration(email=demo.email, password=demo.password, full_name=demo.full_name)
        return await identity.register_patient(
            session=session, registration=registration, password_min_length=settings.password_min_length
        )
    staff = StaffCreate(email=demo.email, password=demo.password, full_name=demo.full_name, role=demo.role)
    return await identity.create_staff_user(
        session=session, actor=SYSTEM, staff=staff, password_min_length=settings.password_min_length
    )


def demo_accounts_text() -> str:
    """The demo accounts and their passwords, as printed at start."""
    lines = ["Demo accounts (development only):"]
    lines += [f"  {a.role.value:<10} {a.email:<28} {a.password}" for a in DEMO_ACCOUNTS]
    return "\n".join(lines) + "\n"


def print_demo_accounts() -> None:
    print(demo_accounts_text())
