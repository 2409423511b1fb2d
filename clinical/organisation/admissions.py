"""Admissions: placing a patient in a bed, transferring them, discharging them.

A stay covers [start_at, end_at). A transfer ends the current stay and starts the next at the same
instant, linked by `transferred_from_id`. Clinicians and nurses admit; every action is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import occupancy
from clinical.organisation.admission_schemas import AdmissionCreate, DischargeRequest, TransferRequest
from clinical.organisation.exceptions import (
    AdmissionClosed,
    AdmissionNotFound,
    ImplausibleTime,
    UnknownReference,
)
from clinical.organisation.models import Admission, Bed, Practitioner, Ward
from clinical.patients import Patient, ensure_patient_access
from core import audit
from core.db import utc_now
from core.errors import Forbidden, InvalidInput
from core.principal import Principal, Role

ADMITTING_ROLES = frozenset({Role.CLINICIAN, Role.NURSE})
# Clocks of browsers and servers disagree a little; a time this far ahead still counts as "now".
CLOCK_SKEW = timedelta(minutes=5)
MAX_LIST = 100


def _require_admitting(principal: Principal) -> None:
    if principal.role not in ADMITTING_ROLES:
        raise Forbidden("Admitting, transferring and discharging needs the clinician or nurse role.")


def _moment(at: datetime | None, field: str) -> datetime:
    now = utc_now()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise ImplausibleTime(f"{field} {at.isoformat()} is in the future.", extra={"field": field})
    return at


_audit = audit.RowAudit("admission", context=lambda stay: {"bed_id": str(stay.bed_id)})


async def _usable_bed(session: AsyncSession, bed_id: uuid.UUID) -> Bed:
    row = (
        await session.execute(select(Bed, Ward).join(Ward, Ward.id == Bed.ward_id).where(Bed.id == bed_id))
    ).first()
    if row is None:
        raise UnknownReference(f"There is no bed with id {bed_id}.", extra={"field": "bed_id"})
    bed, ward = row
    if not (bed.active and ward.active):
        raise UnknownReference(
            f"Bed {bed.label} of ward {ward.code} is out of service.", extra={"field": "bed_id"}
        )
    return bed


def _actor_id(principal: Principal) -> uuid.UUID | None:
    # The system principal has no users row to point at.
    return principal.user_id if principal.user_id.int else None


async def admit(*, session: AsyncSession, actor: Principal, data: AdmissionCreate) -> Admission:
    """Places a patient in a free bed; 409 if the bed is taken or the patient is already in one."""
    _require_admitting(actor)
    start = _moment(data.start_at, "start_at")
    patient = await session.get(Patient, data.patient_id)
    if patient is None:
        raise UnknownReference(
            f"There is no patient with id {data.patient_id}.", extra={"field": "patient_id"}
        )
    if patient.deceased:
        raise InvalidInput(f"Patient {patient.id} is recorded as deceased.", extra={"field": "patient_id"})
    await _usable_bed(session, data.bed_id)
    if (
        data.attending_practitioner_id
        and await session.get(Practitioner, data.attending_practitioner_id) is None
    ):
        raise UnknownReference(
            f"There is no practitioner with id {data.attending_practitioner_id}.",
            extra={"field": "attending_practitioner_id"},
        )
    await occupancy.ensure_free(session, bed_id=data.bed_id, patient_id=patient.id, start=start, end=None)
    stay = Admission(
        patient_id=patient.id,
        bed_id=data.bed_id,
        start_at=start,
        reason=data.reason,
        attending_practitioner_id=data.attending_practitioner_id,
        admitted_by=_actor_id(actor),
    )
    session.add(stay)
    await occupancy.flush_stay(session, stay)
    _audit(session, actor, "admit", stay)
    return stay


async def _open_stay(session: AsyncSession, admission_id: uuid.UUID, at: datetime) -> Admission:
    # Locked (PostgreSQL) so that a concurrent transfer or discharge of the same stay waits for us.
    stay = await session.get(Admission, admission_id, with_for_update=True)
    if stay is None:
        raise AdmissionNotFound(f"There is no admission with id {admission_id}.")
    if stay.end_at is not None:
        raise AdmissionClosed(f"Admission {admission_id} ended at {stay.end_at.isoformat()}.")
    if at <= stay.start_at:
        raise ImplausibleTime(
            f"The time {at.isoformat()} is not after the stay's start {stay.start_at.isoformat()}.",
            extra={"field": "at"},
        )
    return stay


async def transfer(
    *, session: AsyncSession, actor: Principal, admission_id: uuid.UUID, request: TransferRequest
) -> Admission:
    """Ends the stay and starts one in another bed at the same instant; returns the new stay."""
    _require_admitting(actor)
    at = _moment(request.at, "at")
    stay = await _open_stay(session, admission_id, at)
    if request.bed_id == stay.bed_id:
        raise InvalidInput("The patient is already in that bed.", extra={"field": "bed_id"})
    await _usable_bed(session, request.bed_id)
    stay.end_at = at
    stay.updated_at = utc_now()
    # The old stay must end in the database before the new one starts, or the patient would overlap.
    await occupancy.flush_stay(session, stay)
    await occupancy.ensure_free(
        session, bed_id=request.bed_id, patient_id=stay.patient_id, start=at, end=None
    )
    moved = Admission(
        patient_id=stay.patient_id,
        bed_id=request.bed_id,
        start_at=at,
        reason=request.reason or stay.reason,
        attending_practitioner_id=stay.attending_practitioner_id,
        transferred_from_id=stay.id,
        admitted_by=_actor_id(actor),
    )
    session.add(moved)
    await occupancy.flush_stay(session, moved)
    _audit(session, actor, "transfer", moved, from_admission=str(stay.id), from_bed_id=str(stay.bed_id))
    return moved


async def discharge(
    *, session: AsyncSession, actor: Principal, admission_id: uuid.UUID, request: DischargeRequest
) -> Admission:
    """Ends the stay at `at` (now if omitted), freeing the bed."""
    _require_admitting(actor)
    at = _moment(request.at, "at")
    stay = await _open_stay(session, admission_id, at)
    stay.end_at = at
    stay.discharged_by = _actor_id(actor)
    stay.updated_at = utc_now()
    await occupancy.flush_stay(session, stay)
    _audit(session, actor, "discharge", stay)
    return stay


async def get_admission(*, session: AsyncSession, principal: Principal, admission_id: uuid.UUID) -> Admission:
    """One stay, if the caller may see its patient."""
    stay = await session.get(Admission, admission_id)
    if stay is None:
        raise AdmissionNotFound(f"There is no admission with id {admission_id}.")
    ensure_patient_access(session=session, principal=principal, patient_id=stay.patient_id)
    _audit(session, principal, "read", stay)
    return stay


async def list_admissions(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    current_only: bool = False,
    limit: int = 50,
) -> list[Admission]:
    """Stays, newest first; a patient gets only their own, whatever they ask for."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}.", extra={"field": "limit"})
    if not principal.is_staff:
        if patient_id is not None and patient_id != principal.patient_id:
            ensure_patient_access(session=session, principal=principal, patient_id=patient_id)
        patient_id = principal.patient_id
        if patient_id is None:
            return []
    statement = select(Admission).order_by(Admission.start_at.desc(), Admission.id).limit(limit)
    if patient_id is not None:
        statement = statement.where(Admission.patient_id == patient_id)
    if ward_id is not None:
        statement = statement.join(Bed, Bed.id == Admission.bed_id).where(Bed.ward_id == ward_id)
    if current_only:
        statement = statement.where(occupancy.overlapping(utc_now(), None), Admission.start_at <= utc_now())
    stays = list((await session.scalars(statement)).all())
    for stay in stays:
        _audit(session, principal, "read", stay)
    return stays
