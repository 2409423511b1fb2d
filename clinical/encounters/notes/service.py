"""Clinical notes: clinicians draft them, the author signs, and a signed note only gains addenda.

A signed note is immutable: this service refuses changes with 409, and on PostgreSQL a trigger
refuses any UPDATE or DELETE of a signed note (or of an addendum) whatever code issues it.
Patients read the signed notes of their own encounters; drafts are the clinician's work in progress.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.access import load_encounter, require_patient_scope, require_role
from clinical.encounters.models import Encounter, EncounterStatus
from clinical.encounters.notes.models import ClinicalNote, NoteAddendum
from clinical.encounters.notes.schemas import AddendumRead, NoteRead, NoteWrite
from core import audit
from core.db import utc_now
from core.errors import Conflict, Forbidden, NotFound
from core.principal import Principal, Role

RESOURCE = "clinical_note"
# A note names its patient through its encounter: callers pass the patient.
_audit = audit.RowAudit(
    RESOURCE, context=lambda row: {"encounter_id": str(row.encounter_id)}, patient_of=None
)
WRITERS = (Role.CLINICIAN,)
# Documentation is often completed after the patient has left, so finished encounters take notes too.
NOTE_TAKING = (EncounterStatus.IN_PROGRESS, EncounterStatus.FINISHED)


async def write_note(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, note: NoteWrite
) -> NoteRead:
    """Adds a draft note to an encounter in progress or finished; clinicians only."""
    require_role(session, actor, WRITERS, action="create", resource_type=RESOURCE)
    encounter = await load_encounter(session, actor, encounter_id, action="create", resource_type=RESOURCE)
    if encounter.status not in NOTE_TAKING:
        raise Conflict(
            f"Notes are written in encounters in progress or finished; this one is {encounter.status.value}.",
            extra={"encounter_status": encounter.status.value},
        )
    row = ClinicalNote(id=uuid.uuid4(), encounter_id=encounter.id, author_id=actor.user_id, text=note.text)
    session.add(row)
    await session.flush()
    _audit(session, actor, "create", row, patient_id=encounter.patient_id)
    return _read(row, encounter.patient_id, [])


async def revise_note(
    *, session: AsyncSession, actor: Principal, note_id: uuid.UUID, note: NoteWrite
) -> NoteRead:
    """Replaces the text of an unsigned note; only its author may."""
    row, patient_id = await _load_own_draft(session, actor, note_id, action="update")
    row.text = note.text
    await session.flush()
    _audit(session, actor, "update", row, patient_id=patient_id)
    return _read(row, patient_id, [])


async def sign_note(*, session: AsyncSession, actor: Principal, note_id: uuid.UUID) -> NoteRead:
    """Signs a note; from then on it cannot change. Only the clinician who wrote it may sign it."""
    row, patient_id = await _load_own_draft(session, actor, note_id, action="sign")
    row.signed_at = utc_now()
    row.signed_by = actor.user_id
    await session.flush()
    _audit(session, actor, "sign", row, patient_id=patient_id)
    return _read(row, patient_id, [])


async def add_addendum(
    *, session: AsyncSession, actor: Principal, note_id: uuid.UUID, addendum: NoteWrite
) -> AddendumRead:
    """Appends an addendum to a signed note (a draft is simply revised instead); clinicians only."""
    require_role(session, actor, WRITERS, action="addendum", resource_type=RESOURCE, resource_id=note_id)
    row, patient_id = await _load(session, actor, note_id, action="addendum", for_update=True)
    if row.signed_at is None:
        raise Conflict("Only a signed note takes addenda; revise the draft instead.")
    added = NoteAddendum(
        id=uuid.uuid4(), note_id=row.id, author_id=actor.user_id, text=addendum.text, created_at=utc_now()
    )
    session.add(added)
    await session.flush()
    _audit(session, actor, "addendum", row, patient_id=patient_id, addendum_id=str(added.id))
    return AddendumRead.model_validate(added)


async def get_note(*, session: AsyncSession, actor: Principal, note_id: uuid.UUID) -> NoteRead:
    """One note with its addenda; patients see only signed notes."""
    row, patient_id = await _load(session, actor, note_id, action="read")
    _audit(session, actor, "read", row, patient_id=patient_id)
    return _read(row, patient_id, (await _addenda(session, [row.id]))[row.id])


async def list_notes(*, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID) -> list[NoteRead]:
    """The notes of an encounter, oldest first, with their addenda; patients see only signed notes."""
    encounter = await load_encounter(session, actor, encounter_id, action="list", resource_type=RESOURCE)
    query = select(ClinicalNote).where(ClinicalNote.encounter_id == encounter.id)
    if not actor.is_staff:
        query = query.where(ClinicalNote.signed_at.is_not(None))
    rows = list(await session.scalars(query.order_by(ClinicalNote.created_at, ClinicalNote.id)))
    addenda = await _addenda(session, [row.id for row in rows])
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type=RESOURCE,
        patient_id=encounter.patient_id,
        detail={"encounter_id": str(encounter.id), "ids": [str(row.id) for row in rows]},
    )
    return [_read(row, encounter.patient_id, addenda[row.id]) for row in rows]


async def _load(
    session: AsyncSession, actor: Principal, note_id: uuid.UUID, *, action: str, for_update: bool = False
) -> tuple[ClinicalNote, uuid.UUID]:
    query = select(ClinicalNote, Encounter.patient_id).join(Encounter).where(ClinicalNote.id == note_id)
    if for_update:
        # Holds off a concurrent sign or revision of the same note until this transaction ends.
        query = query.with_for_update(of=ClinicalNote)
    found = (await session.execute(query)).one_or_none()
    if found is None:
        raise NotFound(f"There is no note with id {note_id}.")
    row, patient_id = found
    require_patient_scope(
        session, actor, patient_id, action=action, resource_type=RESOURCE, resource_id=note_id
    )
    if not actor.is_staff and row.signed_at is None:
        # A patient is not told that a draft exists: to them it is simply not there yet.
        raise NotFound(f"There is no note with id {note_id}.")
    return row, patient_id


async def _load_own_draft(
    session: AsyncSession, actor: Principal, note_id: uuid.UUID, *, action: str
) -> tuple[ClinicalNote, uuid.UUID]:
    require_role(session, actor, WRITERS, action=action, resource_type=RESOURCE, resource_id=note_id)
    row, patient_id = await _load(session, actor, note_id, action=action, for_update=True)
    if row.author_id != actor.user_id:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource_type=RESOURCE,
            resource_id=note_id,
            patient_id=patient_id,
            outcome="denied",
        )
        raise Forbidden("Only the clinician who wrote this note may change or sign it.")
    if row.signed_at is not None:
        raise Conflict(
            "This note is signed and can no longer change; add an addendum instead.",
            extra={"signed_at": row.signed_at.isoformat()},
        )
    return row, patient_id


async def _addenda(session: AsyncSession, note_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AddendumRead]]:
    found: dict[uuid.UUID, list[AddendumRead]] = defaultdict(list)
    if note_ids:
        query = (
            select(NoteAddendum)
            .where(NoteAddendum.note_id.in_(note_ids))
            .order_by(NoteAddendum.created_at, NoteAddendum.id)
        )
        for row in await session.scalars(query):
            found[row.note_id].append(AddendumRead.model_validate(row))
    return found


def _read(row: ClinicalNote, patient_id: uuid.UUID, addenda: list[AddendumRead]) -> NoteRead:
    return NoteRead(
        id=row.id,
        encounter_id=row.encounter_id,
        patient_id=patient_id,
        author_id=row.author_id,
        text=row.text,
        signed_at=row.signed_at,
        signed_by=row.signed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        addenda=addenda,
    )
