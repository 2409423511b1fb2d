"""Loads the demo hospital in one unit of work, through the domain services, unless it is there.

The accounts are ensured on their own (an older demo may have made only those); the hospital is
built when its first department is missing, so a second seed changes nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

import ownat.model_registry  # noqa: F401 - every table's mapper is configured before the first query
from clinical import organisation
from clinical.codes import load_icd10
from core.audit import AuditKeyring
from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings
from ownat.demo import (
    billing,
    clinic_day,
    lab_interface,
    monitors,
    observation_rounds,
    patients,
    stays,
    visits,
)
from ownat.demo.accounts import DemoUsers, ensure_accounts
from ownat.demo.context import Seeding
from ownat.demo.conversations import seed_conversations
from ownat.demo.inpatient_plan import INPATIENTS
from ownat.demo.organisation import build_organisation
from ownat.demo.outpatient_plan import OUTPATIENTS
from ownat.demo.staff_plan import DEMO_CLINICIAN, DEMO_NURSE, DEPARTMENTS
from ownat.demo.timeline import Timeline

MARKER_DEPARTMENT = DEPARTMENTS[0][0]


async def seed_demo_data(settings: Settings) -> bool:
    """Loads the demo data unless it is already there; True when something was created."""
    engine = create_engine(settings.effective_database_url)
    try:
        # The ICD-10 list is parsed in a thread once, before the services validate codes with it.
        await load_icd10()
        sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
        async with transaction(sessions) as session:
            users, created = await ensure_accounts(session, settings)
            if await hospital_exists(session):
                return created
            await build_hospital(session, settings, users)
        return True
    finally:
        await engine.dispose()


async def hospital_exists(session: AsyncSession) -> bool:
    """Whether the demo hospital has been loaded (its first department exists)."""
    departments = await organisation.list_departments(session=session, include_inactive=True)
    return any(department.code == MARKER_DEPARTMENT for department in departments)


async def build_hospital(session: AsyncSession, settings: Settings, users: DemoUsers) -> None:
    """The organisation, the patients and their histories, the current stays and the bookings ahead."""
    seeding = Seeding(
        session=session,
        timeline=Timeline(now=utc_now()),
        admin=users.admin.as_principal(),
        nurse=users.nurse.as_principal(),
        patient_account=users.patient.as_principal(),
    )
    await build_organisation(seeding, settings, {DEMO_CLINICIAN: users.clinician, DEMO_NURSE: users.nurse})
    everyone = INPATIENTS + OUTPATIENTS
    for plan in everyone:
        await patients.register(seeding, plan)
    for plan in INPATIENTS:
        await stays.admit(seeding, plan)
    await observation_rounds.chart_rounds(seeding, INPATIENTS)
    for plan in OUTPATIENTS:
        for visit in plan.visits:
            await visits.past_visit(seeding, plan, visit)
    # The demo patient books first, so that their video call is the clinician's next slot.
    for plan in sorted(OUTPATIENTS, key=lambda p: not p.is_demo_account):
        for upcoming in plan.upcoming:
            await visits.book(seeding, plan, upcoming)
    await monitors.install_home_oximeter(seeding, next(p for p in OUTPATIENTS if p.is_demo_account))
    await lab_interface.report_a_pending_order(seeding)
    await seed_conversations(seeding, settings)
    await clinic_day.book_clinic(seeding)
    await billing.seed_billing(seeding, settings)
