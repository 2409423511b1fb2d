"""Builds the organisation through its services: departments, staff accounts and practitioners,
weekly clinics and leave, wards with beds, and the appointment types."""

from __future__ import annotations

import secrets
import uuid
from datetime import time, timedelta

from clinical import organisation, scheduling
from clinical.organisation import BedCreate, DepartmentCreate, PractitionerCreate, WardCreate
from clinical.organisation import Qualification as QualificationIn
from clinical.scheduling import (
    AppointmentTypeCreate,
    ExceptionReason,
    ScheduleExceptionCreate,
    WorkingHoursCreate,
)
from core import identity
from core.identity import StaffCreate, User
from core.principal import Role
from core.settings import Settings
from ownat.demo.context import Seeding
from ownat.demo.specs import ClinicianPlan
from ownat.demo.staff_plan import CLINICIANS, DEPARTMENTS, VISIT_TYPES, WARDS

# Working hours start this long ago, so that the imported history lies inside them.
HOURS_VALID_SINCE = timedelta(days=400)
LEAVE = timedelta(days=5)


async def build_organisation(seeding: Seeding, settings: Settings, demo_users: dict[str, User]) -> None:
    """Everything the clinical records hang off; `demo_users` maps plan keys to the demo staff accounts."""
    session, admin = seeding.session, seeding.admin
    departments: dict[str, uuid.UUID] = {}
    for code, name in DEPARTMENTS:
        created = await organisation.create_department(
            session=session, actor=admin, data=DepartmentCreate(code=code, name=name)
        )
        departments[code] = created.id
    for plan in CLINICIANS:
        user = demo_users.get(plan.key) or await _colleague_account(seeding, plan, settings)
        if user is not None and user.role is Role.CLINICIAN:
            seeding.clinicians[plan.key] = user.as_principal()
        practitioner = await organisation.create_practitioner(
            session=session, actor=admin, data=_practitioner(plan, user, departments[plan.department])
        )
        seeding.practitioners[plan.key] = practitioner.id
        await _clinics(seeding, plan, practitioner.id)
    for ward_plan in WARDS:
        ward = await organisation.create_ward(
            session=session,
            actor=admin,
            data=WardCreate(
                department_id=departments[ward_plan.department], code=ward_plan.code, name=ward_plan.name
            ),
        )
        for number in range(1, ward_plan.beds + 1):
            bed = await organisation.create_bed(
                session=session, actor=admin, ward_id=ward.id, data=BedCreate(label=f"Bed {number:02d}")
            )
            seeding.beds[ward_plan.code, number] = bed.id
    for kind in VISIT_TYPES:
        visit_type = await scheduling.create_type(
            session=session,
            actor=admin,
            new=AppointmentTypeCreate(
                code=kind.code,
                name=kind.name,
                mode=kind.mode,
                duration_minutes=kind.minutes,
                cancellation_window_hours=kind.cancellation_window_hours,
            ),
        )
        seeding.visit_types[kind.code] = visit_type


async def _colleague_account(seeding: Seeding, plan: ClinicianPlan, settings: Settings) -> User | None:
    # Colleagues sign the records of their own patients; their passwords are never shown (an
    # administrator sets one to use them), so only the published demo accounts can sign in.
    if plan.email is None:
        return None
    staff = StaffCreate(
        email=plan.email,
        password=secrets.token_urlsafe(24),
        full_name=f"{plan.prefix} {plan.given} {plan.family}"
        if plan.prefix
        else f"{plan.given} {plan.family}",
        role=Role.CLINICIAN,
    )
    return await identity.create_staff_user(
        session=seeding.session,
        actor=seeding.admin,
        staff=staff,
        password_min_length=settings.password_min_length,
    )


def _practitioner(plan: ClinicianPlan, user: User | None, department_id: uuid.UUID) -> PractitionerCreate:
    return PractitionerCreate(
        user_id=user.id if user else None,
        prefix=plan.prefix,
        given_name=plan.given,
        family_name=plan.family,
        specialties=list(plan.specialties),
        qualifications=[
            QualificationIn(code=q.code, display=q.display, issuer=q.issuer, year=q.year)
            for q in plan.qualifications
        ],
        department_id=department_id,
    )


async def _clinics(seeding: Seeding, plan: ClinicianPlan, practitioner_id: uuid.UUID) -> None:
    timeline = seeding.timeline
    for weekday in plan.weekdays:
        await scheduling.add_working_hours(
            session=seeding.session,
            actor=seeding.admin,
            practitioner_id=practitioner_id,
            new=WorkingHoursCreate(
                weekday=weekday,
                start_time=plan.start,
                end_time=plan.end,
                time_zone=timeline.zone_name,
                valid_from=timeline.today - HOURS_VALID_SINCE,
            ),
        )
    if plan.leave_from_day is not None:
        first = timeline.today + timedelta(days=plan.leave_from_day)
        await scheduling.add_exception(
            session=seeding.session,
            actor=seeding.admin,
            practitioner_id=practitioner_id,
            new=ScheduleExceptionCreate(
                start_at=timeline.at(first, time(0)),
                end_at=timeline.at(first + LEAVE, time(0)),
                reason=ExceptionReason.LEAVE,
                note="Annual leave",
            ),
        )
