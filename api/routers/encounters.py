"""Consultations: encounters, their notes (signed, then addenda only), diagnoses, prescriptions and
manually recorded vitals. Clinicians write; nurses also record vitals; staff read every patient's;
a patient reads their own. Role and scope checks live in the services, where they are audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentPrincipal, SessionDep
from clinical import encounters
from clinical.encounters import (
    AddendumRead,
    DiagnosisCreate,
    DiagnosisRead,
    EncounterCancel,
    EncounterCreate,
    EncounterFilter,
    EncounterFinish,
    EncounterRead,
    EncounterStart,
    NoteRead,
    NoteWrite,
    PrescriptionCreate,
    PrescriptionFilter,
    PrescriptionRead,
    PrescriptionStatusChange,
    RecordedVitalFilter,
    RecordedVitalRead,
    RecordedVitalsCreate,
)
from core.paging import MAX_PAGE_SIZE, Page

router = APIRouter(tags=["encounters"])
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.post("/encounters", status_code=201, response_model=EncounterRead, summary="Open an encounter")
async def create_encounter(
    body: EncounterCreate, actor: CurrentPrincipal, session: SessionDep
) -> EncounterRead:
    encounter = await encounters.create_encounter(session=session, actor=actor, new=body)
    return EncounterRead.model_validate(encounter)


@router.get("/encounters", response_model=Page[EncounterRead], summary="Encounters, newest first")
async def list_encounters(
    actor: CurrentPrincipal,
    session: SessionDep,
    filters: Annotated[EncounterFilter, Query()],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EncounterRead]:
    return await encounters.list_encounters(
        session=session, actor=actor, filters=filters, cursor=cursor, limit=limit
    )


@router.get("/encounters/{encounter_id}", response_model=EncounterRead, summary="One encounter")
async def get_encounter(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> EncounterRead:
    encounter = await encounters.get_encounter(session=session, actor=actor, encounter_id=encounter_id)
    return EncounterRead.model_validate(encounter)


@router.post(
    "/encounters/{encounter_id}/start", response_model=EncounterRead, summary="Start a planned encounter"
)
async def start_encounter(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, body: EncounterStart | None = None
) -> EncounterRead:
    encounter = await encounters.start_encounter(
        session=session, actor=actor, encounter_id=encounter_id, start=body or EncounterStart()
    )
    return EncounterRead.model_validate(encounter)


@router.post("/encounters/{encounter_id}/finish", response_model=EncounterRead, summary="Finish an encounter")
async def finish_encounter(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, body: EncounterFinish | None = None
) -> EncounterRead:
    encounter = await encounters.finish_encounter(
        session=session, actor=actor, encounter_id=encounter_id, finish=body or EncounterFinish()
    )
    return EncounterRead.model_validate(encounter)


@router.post("/encounters/{encounter_id}/cancel", response_model=EncounterRead, summary="Cancel an encounter")
async def cancel_encounter(
    encounter_id: uuid.UUID, body: EncounterCancel, actor: CurrentPrincipal, session: SessionDep
) -> EncounterRead:
    encounter = await encounters.cancel_encounter(
        session=session, actor=actor, encounter_id=encounter_id, cancel=body
    )
    return EncounterRead.model_validate(encounter)


@router.post(
    "/encounters/{encounter_id}/notes",
    status_code=201,
    response_model=NoteRead,
    summary="Draft a clinical note",
)
async def write_note(
    encounter_id: uuid.UUID, body: NoteWrite, actor: CurrentPrincipal, session: SessionDep
) -> NoteRead:
    return await encounters.write_note(session=session, actor=actor, encounter_id=encounter_id, note=body)


@router.get("/encounters/{encounter_id}/notes", response_model=list[NoteRead], summary="An encounter's notes")
async def list_notes(encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> list[NoteRead]:
    return await encounters.list_notes(session=session, actor=actor, encounter_id=encounter_id)


@router.get("/notes/{note_id}", response_model=NoteRead, summary="One note with its addenda")
async def get_note(note_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> NoteRead:
    return await encounters.get_note(session=session, actor=actor, note_id=note_id)


@router.patch(
    "/notes/{note_id}", response_model=NoteRead, summary="Revise an unsigned note (its author only)"
)
async def revise_note(
    note_id: uuid.UUID, body: NoteWrite, actor: CurrentPrincipal, session: SessionDep
) -> NoteRead:
    return await encounters.revise_note(session=session, actor=actor, note_id=note_id, note=body)


@router.post("/notes/{note_id}/sign", response_model=NoteRead, summary="Sign a note (its author only)")
async def sign_note(note_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> NoteRead:
    return await encounters.sign_note(session=session, actor=actor, note_id=note_id)


@router.post(
    "/notes/{note_id}/addenda", status_code=201, response_model=AddendumRead, summary="Add to a signed note"
)
async def add_addendum(
    note_id: uuid.UUID, body: NoteWrite, actor: CurrentPrincipal, session: SessionDep
) -> AddendumRead:
    return await encounters.add_addendum(session=session, actor=actor, note_id=note_id, addendum=body)


@router.post(
    "/encounters/{encounter_id}/diagnoses",
    status_code=201,
    response_model=DiagnosisRead,
    summary="Record an ICD-10 diagnosis",
)
async def add_diagnosis(
    encounter_id: uuid.UUID, body: DiagnosisCreate, actor: CurrentPrincipal, session: SessionDep
) -> DiagnosisRead:
    diagnosis = await encounters.add_diagnosis(
        session=session, actor=actor, encounter_id=encounter_id, new=body
    )
    return DiagnosisRead.model_validate(diagnosis)


@router.get(
    "/encounters/{encounter_id}/diagnoses",
    response_model=list[DiagnosisRead],
    summary="An encounter's diagnoses",
)
async def list_diagnoses(
    encounter_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[DiagnosisRead]:
    rows = await encounters.list_diagnoses(session=session, actor=actor, encounter_id=encounter_id)
    return [DiagnosisRead.model_validate(row) for row in rows]


@router.delete(
    "/encounters/{encounter_id}/diagnoses/{diagnosis_id}", status_code=204, summary="Remove a diagnosis"
)
async def remove_diagnosis(
    encounter_id: uuid.UUID, diagnosis_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> Response:
    await encounters.remove_diagnosis(
        session=session, actor=actor, encounter_id=encounter_id, diagnosis_id=diagnosis_id
    )
    return Response(status_code=204)


@router.post(
    "/encounters/{encounter_id}/prescriptions",
    status_code=201,
    response_model=PrescriptionRead,
    summary="Prescribe a medication",
)
async def prescribe(
    encounter_id: uuid.UUID, body: PrescriptionCreate, actor: CurrentPrincipal, session: SessionDep
) -> PrescriptionRead:
    return await encounters.prescribe(session=session, actor=actor, encounter_id=encounter_id, new=body)


@router.get(
    "/encounters/{encounter_id}/prescriptions",
    response_model=Page[PrescriptionRead],
    summary="An encounter's prescriptions",
)
async def list_encounter_prescriptions(
    encounter_id: uuid.UUID,
    actor: CurrentPrincipal,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[PrescriptionRead]:
    return await encounters.list_prescriptions(
        session=session,
        actor=actor,
        filters=PrescriptionFilter(),
        encounter_id=encounter_id,
        cursor=cursor,
        limit=limit,
    )


@router.get("/prescriptions", response_model=Page[PrescriptionRead], summary="A patient's prescriptions")
async def list_prescriptions(
    actor: CurrentPrincipal,
    session: SessionDep,
    filters: Annotated[PrescriptionFilter, Query()],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[PrescriptionRead]:
    return await encounters.list_prescriptions(
        session=session, actor=actor, filters=filters, cursor=cursor, limit=limit
    )


@router.get("/prescriptions/{prescription_id}", response_model=PrescriptionRead, summary="One prescription")
async def get_prescription(
    prescription_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> PrescriptionRead:
    return await encounters.get_prescription(session=session, actor=actor, prescription_id=prescription_id)


@router.post(
    "/prescriptions/{prescription_id}/status",
    response_model=PrescriptionRead,
    summary="Complete, cancel or stop a prescription",
)
async def change_prescription_status(
    prescription_id: uuid.UUID, body: PrescriptionStatusChange, actor: CurrentPrincipal, session: SessionDep
) -> PrescriptionRead:
    return await encounters.change_prescription_status(
        session=session, actor=actor, prescription_id=prescription_id, change=body
    )


@router.post(
    "/recorded-vitals",
    status_code=201,
    response_model=list[RecordedVitalRead],
    summary="Record a set of vital signs measured by hand",
)
async def record_vitals(
    body: RecordedVitalsCreate, actor: CurrentPrincipal, session: SessionDep
) -> list[RecordedVitalRead]:
    rows = await encounters.record_vitals(session=session, actor=actor, new=body)
    return [RecordedVitalRead.model_validate(row) for row in rows]


@router.get(
    "/recorded-vitals", response_model=Page[RecordedVitalRead], summary="Recorded vitals, newest first"
)
async def list_recorded_vitals(
    actor: CurrentPrincipal,
    session: SessionDep,
    filters: Annotated[RecordedVitalFilter, Query()],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RecordedVitalRead]:
    return await encounters.list_recorded_vitals(
        session=session, actor=actor, filters=filters, cursor=cursor, limit=limit
    )
