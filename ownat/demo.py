"""The demo hospital loaded by `ownat seed` and on the embedded mode's first start.

Its passwords are published in the README and printed at start, so production refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine
from core.identity import service as identity
from core.identity.models import User
from core.identity.principal import SYSTEM, Role
from core.identity.schemas import PatientRegistration, StaffCreate
from core.sessions import create_sessionmaker, transaction
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
)


async def seed_demo_data(settings: Settings) -> bool:
    """Loads the demo data unless it is already there; True when something was created."""
    engine = create_engine(settings.effective_database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with transaction(sessions) as session:
            first = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0].email))
            if first is not None:
                return False
            for account in DEMO_ACCOUNTS:
                await _create_account(session, account, settings)
        return True
    finally:
        await engine.dispose()


async def _create_account(session: AsyncSession, account: DemoAccount, settings: Settings) -> None:
    if account.role is Role.PATIENT:
        registration = PatientRegistration(
            email=account.email, password=account.password, full_name=account.full_name
        )
        await identity.register_patient(
            session=session, registration=registration, password_min_length=settings.password_min_length
        )
        return
    staff = StaffCreate(
        email=account.email, password=account.password, full_name=account.full_name, role=account.role
    )
    await identity.create_staff_user(
        session=session, actor=SYSTEM, staff=staff, password_min_length=settings.password_min_length
    )


def demo_accounts_text() -> str:
    lines = ["Demo accounts (development only):"]
    lines += [f"  {a.role.value:<10} {a.email:<28} {a.password}" for a in DEMO_ACCOUNTS]
    return "\n".join(lines) + "\n"


def print_demo_accounts() -> None:
    print(demo_accounts_text())
