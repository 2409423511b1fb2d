"""Encounters: open one (from an appointment or as a walk-in), start, finish, cancel, read and list.

Only clinicians change encounters, except that background jobs (SYSTEM) may finish one a clinician
left running (a consult room that closed without "end"); staff read them all; a patient reads their
own. Every read and write is audited with the patient's id.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import appointments
from clinical.encounters.access import (
    load_encounter,
    load_patient,
    practitioner_of,
    require_patient_scope,
    require_role,
)
from clinical.encounters.models import Encounter, EncounterStatus
from clinical.encounters.schemas import (
    EncounterCancel,
    EncounterCreate,
    EncounterFilter,
    EncounterFinish,
    EncounterRead,
    EncounterStart,
)
from core import audit
from core.db import utc_now
from core.errors import Conflict, InvalidInput
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import SYSTEM, Principal, Role

RESOURCE = "encounter"
_audit = audit.RowAudit(RESOURCE)
WRITERS = (Role.CLINICIAN,)


async def create_encounter(*, session: AsyncSession, actor: Principal, new: EncounterCreate) -> Encounter:
    """Opens an encounter; from an appointment it also checks the appointment in and starts it."""
    require_role(session, actor, WRITERS, action="create", resource_type=RESOURCE, patient_id=new.patient_id)
    practitioner = await practitioner_of(session, actor)
    appointment = None
    if new.appointment_id is not None:
        appointment = await appointments.claim(session, new.appointment_id)
        if new.patient_id is not None and new.patient_id != appointment.patient_id:
            raise InvalidInput("patient_id does not match the appointment's patient; leave it out.")
        patient_id = appointment.patient_id
    else:
        assert new.patient_id is not None  # the schema requires one of the two
        patient_id = (
            await load_patient(session, actor, new.patient_id, action="create", resource_type=RESOURCE)
        ).id
    status = EncounterStatus(new.status)
    encounter = Encounter(
        id=uuid.uuid4(),
        patient_id=patient_id,
        practitioner_id=practitioner.id,
        appointment_id=appointment.id if appointment else None,
        encounter_class=new.encounter_class or appointments.default_class(appointment),
        status=status,
        reason=new.reason or (appointment.reason if appointment else None),
        started_at=(new.started_at or utc_now()) if status is EncounterStatus.IN_PROGRESS else None,
        created_by=actor.user_id,
    )
    session.add(encounter)
    await _flush_unique_appointment(session, encounter)
    if appointment is not None and status is EncounterStatus.IN_PROGRESS:
        await appointments.mark_started(session, actor, appointment)
    _audit(session, actor, "create", encounter, status=status.value, appointment_id=encounter.appointment_id)
    return encounter


async def start_encounter(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, start: EncounterStart
) -> Encounter:
    """Starts a planned encounter's clock."""
    encounter = await _load_for_change(session, actor, encounter_id, action="start")
    _require_status(encounter, EncounterStatus.PLANNED, "start")
    encounter.status = EncounterStatus.IN_PROGRESS
    encounter.started_at = start.started_at or utc_now()
    await session.flush()
    if encounter.appointment_id is not None:
        await appointments.mark_started(
            session, actor, await appointments.load(session, encounter.appointment_id)
        )
    _audit(session, actor, "start", encounter)
    return encounter


async def finish_encounter(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, finish: EncounterFinish
) -> Encounter:
    """Ends an encounter in progress; its appointment, if any, is completed."""
    encounter = await _load_for_change(session, actor, encounter_id, action="finish", system_may=True)
    _require_status(encounter, EncounterStatus.IN_PROGRESS, "finish")
    ended_at = finish.ended_at or utc_now()
    assert encounter.started_at is not None  # in progress implies started (database check)
    if ended_at < encounter.started_at:
        raise InvalidInput(
            f"ended_at {ended_at.isoformat()} is before the encounter started ({encounter.started_at.isoformat()})."
        )
    encounter.status = EncounterStatus.FINISHED
    encounter.ended_at = ended_at
    await session.flush()
    if encounter.appointment_id is not None:
        await appointments.mark_completed(session, actor, encounter.appointment_id)
    _audit(
        session, actor, "finish", encounter, duration_s=int((ended_at - encounter.started_at).total_seconds())
    )
    return encounter


async def cancel_encounter(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, cancel: EncounterCancel
) -> Encounter:
    """Cancels a planned or running encounter (opened in error, patient left); finished ones stay."""
    encounter = await _load_for_change(session, actor, encounter_id, action="cancel")
    if encounter.status not in (EncounterStatus.PLANNED, EncounterStatus.IN_PROGRESS):
        raise Conflict(
            f"A {encounter.status.value} encounter cannot be cancelled.",
            extra={"encounter_status": encounter.status.value},
        )
    encounter.status = EncounterStatus.CANCELLED
    encounter.cancel_reason = cancel.reason
    await session.flush()
    _audit(session, actor, "cancel", encounter, reason=cancel.reason)
    return encounter


async def get_encounter(*, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID) -> Encounter:
    """One encounter, if its patient is in the caller's scope."""
    encounter = await load_encounter(session, actor, encounter_id, action="read")
    _audit(session, actor, "read", encounter)
    return encounter


async def list_encounters(
    *,
    session: AsyncSession,
    actor: Principal,
    filters: EncounterFilter,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[EncounterRead]:
    """Encounters newest first; a patient's list holds only their own, whatever they ask for."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    patient_id = filters.patient_id
    if not actor.is_staff:
        patient_id = patient_id or actor.patient_id
    if patient_id is not None:
        require_patient_scope(session, actor, patient_id, action="list", resource_type=RESOURCE)
    elif not actor.is_staff:
        raise InvalidInput("This account has no patient record to list encounters for.")
    query = select(Encounter)
    if patient_id is not None:
        query = query.where(Encounter.patient_id == patient_id)
    if filters.practitioner_id is not None:
        query = query.where(Encounter.practitioner_id == filters.practitioner_id)
    if filters.status is not None:
        query = query.where(Encounter.status == filters.status)
    query = newest_first(
        query, time_column=Encounter.created_at, id_column=Encounter.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(
        session,
        actor,
        rows,
        action="list",
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={"filters": filters.model_dump(mode="json", exclude_none=True)},
    )
    return Page[EncounterRead](
        items=[EncounterRead.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    )


async def _load_for_change(
    session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, *, action: str, system_may: bool = False
) -> Encounter:
    # SYSTEM exists only inside our own processes: no user has its all-zero id, and a token's principal
    # also carries its token id, so it never equals SYSTEM. A signed-in user gains nothing from this.
    if not (system_may and actor == SYSTEM):
        require_role(session, actor, WRITERS, action=action, resource_type=RESOURCE, resource_id=encounter_id)
    return await load_encounter(session, actor, encounter_id, action=action, for_update=True)


def _require_status(encounter: Encounter, status: EncounterStatus, verb: str) -> None:
    if encounter.status is not status:
        raise Conflict(
            f"Only a {status.value} encounter can {verb}; this one is {encounter.status.value}.",
            extra={"encounter_status": encounter.status.value},
        )


async def _flush_unique_appointment(session: AsyncSession, encounter: Encounter) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # Two clinicians opening the same appointment at once: the unique key lets one through.
        if "appointment_id" in str(error.orig):
            raise Conflict(
                "This appointment already has an encounter.",
                extra={"appointment_id": str(encounter.appointment_id)},
            ) from None
        raise
