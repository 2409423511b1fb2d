"""Diagnoses: ICD-10 codes checked against the WHO code list, ranked per encounter (1 is primary)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.codes import canonical_icd10, load_icd10, validate_icd10
from clinical.encounters.access import load_encounter, require_role
from clinical.encounters.diagnoses.models import Diagnosis
from clinical.encounters.diagnoses.schemas import MAX_RANK, DiagnosisCreate
from clinical.encounters.models import Encounter, EncounterStatus
from core import audit
from core.errors import Conflict, InvalidInput, NotFound
from core.principal import Principal, Role

RESOURCE = "diagnosis"
_audit = audit.RowAudit(
    RESOURCE,
    context=lambda row: {"encounter_id": str(row.encounter_id), "code": row.code, "rank": row.rank},
    patient_of=None,
)
WRITERS = (Role.CLINICIAN,)
# Coding is often finished after the visit, so a finished encounter still takes diagnoses.
CODABLE = (EncounterStatus.IN_PROGRESS, EncounterStatus.FINISHED)


async def add_diagnosis(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, new: DiagnosisCreate
) -> Diagnosis:
    """Records a diagnosis; the code must be a billable (most specific) ICD-10 code."""
    encounter = await _load_codable(session, actor, encounter_id, action="create")
    # The code list is parsed once per process; in a thread, so the event loop is not held.
    await load_icd10()
    display = validate_icd10(new.code, require_leaf=True)
    code = canonical_icd10(new.code)
    existing = list(
        await session.execute(
            select(Diagnosis.code, Diagnosis.rank).where(Diagnosis.encounter_id == encounter.id)
        )
    )
    if any(row.code == code for row in existing):
        raise Conflict(f"{code} is already a diagnosis of this encounter.", extra={"icd10_code": code})
    rank = new.rank or (max((row.rank for row in existing), default=0) + 1)
    if rank > MAX_RANK:
        raise InvalidInput(f"An encounter records at most {MAX_RANK} diagnoses.")
    if any(row.rank == rank for row in existing):
        raise Conflict(
            f"Rank {rank} is already taken in this encounter; remove that diagnosis or pick another rank.",
            extra={"rank": rank},
        )
    diagnosis = Diagnosis(
        id=uuid.uuid4(),
        encounter_id=encounter.id,
        code=code,
        display=display,
        rank=rank,
        recorded_by=actor.user_id,
    )
    session.add(diagnosis)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent insert of the same code or rank won the race the checks above cannot close.
        raise Conflict(
            "This diagnosis or rank was just recorded by someone else; reload and retry."
        ) from None
    _audit(session, actor, "create", diagnosis, patient_id=encounter.patient_id)
    return diagnosis


async def remove_diagnosis(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, diagnosis_id: uuid.UUID
) -> None:
    """Removes a diagnosis recorded in error (the audit log keeps what it was)."""
    encounter = await _load_codable(session, actor, encounter_id, action="delete")
    diagnosis = await session.scalar(
        select(Diagnosis).where(Diagnosis.id == diagnosis_id, Diagnosis.encounter_id == encounter.id)
    )
    if diagnosis is None:
        raise NotFound(f"There is no diagnosis {diagnosis_id} in encounter {encounter_id}.")
    await session.delete(diagnosis)
    await session.flush()
    _audit(session, actor, "delete", diagnosis, patient_id=encounter.patient_id)


async def list_diagnoses(
    *, session: AsyncSession, actor: Principal, encounter_id: uuid.UUID
) -> list[Diagnosis]:
    """The encounter's diagnoses by rank."""
    encounter = await load_encounter(session, actor, encounter_id, action="list", resource_type=RESOURCE)
    rows = list(
        await session.scalars(
            select(Diagnosis).where(Diagnosis.encounter_id == encounter.id).order_by(Diagnosis.rank)
        )
    )
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type=RESOURCE,
        patient_id=encounter.patient_id,
        detail={"encounter_id": str(encounter.id), "codes": [row.code for row in rows]},
    )
    return rows


async def _load_codable(
    session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, *, action: str
) -> Encounter:
    require_role(session, actor, WRITERS, action=action, resource_type=RESOURCE)
    encounter = await load_encounter(
        session, actor, encounter_id, action=action, resource_type=RESOURCE, for_update=True
    )
    if encounter.status not in CODABLE:
        raise Conflict(
            f"Diagnoses are recorded in encounters in progress or finished; this one is {encounter.status.value}.",
            extra={"encounter_status": encounter.status.value},
        )
    return encounter
