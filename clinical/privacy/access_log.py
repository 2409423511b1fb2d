"""Who opened a patient's record, from the audit log: each member of staff named with their role and
department, their consecutive accesses gathered into one visit, what they looked at in words."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import load_patient
from clinical.organisation import Department, Practitioner
from clinical.privacy.schemas import AccessLog, AccessVisit
from core import audit
from core.access import refuse
from core.audit import AuditEvent
from core.identity import User
from core.principal import SYSTEM_USER_ID, Principal, Role

# Accesses by one person less than this apart belong to one visit of the record.
VISIT_GAP = timedelta(minutes=30)
# Entries read per page: plenty for months of visits; older ones page on.
ENTRIES_PER_PAGE = 2000
STAFF_ROLE_NAMES = {"admin", "clinician", "nurse", "billing"}
READ_ACTIONS = frozenset({"read", "list", "search", "everything", "download", "export", "access"})
THINGS = {
    "patient": "your details",
    "allergy": "allergies",
    "condition": "conditions",
    "medication": "medicines",
    "encounter": "visits",
    "clinical_note": "visit notes",
    "diagnosis": "diagnoses",
    "prescription": "prescriptions",
    "lab_order": "lab tests",
    "lab_result": "lab results",
    "document": "documents",
    "message_thread": "messages",
    "message": "messages",
    "appointment": "appointments",
    "vitals": "vital signs",
    "vitals_latest": "vital signs",
    "vital_readings": "vital signs",
    "recorded_vital": "vital signs",
    "alarm": "alarms",
    "admission": "admissions",
    "device_binding": "devices",
    "invoice": "bills",
    "payment": "payments",
    "consult_session": "video consultations",
    "data_request": "requests about your data",
    "patient_record": "your whole record (a download)",
    "access_log": "who opened your record",
}


@dataclass
class _Visit:
    actor_id: uuid.UUID
    role: str
    first_at: datetime
    last_at: datetime
    viewed: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


async def who_opened(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID, before: int | None = None
) -> AccessLog:
    """The staff visits of the patient's record, newest first (the patient or an administrator)."""
    if actor.role not in (Role.PATIENT, Role.ADMIN):
        # Staff see the record itself; who else looked at it is for the patient and the administrators.
        refuse(
            session,
            actor,
            action="read",
            resource_type="access_log",
            patient_id=patient_id,
            message="Only the patient and administrators read who opened a record.",
        )
    await load_patient(session, actor, patient_id, action="read", resource_type="access_log")
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.patient_id == patient_id,
            AuditEvent.actor_role.in_(STAFF_ROLE_NAMES),
            AuditEvent.actor_id != SYSTEM_USER_ID,
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq.desc())
        .limit(ENTRIES_PER_PAGE)
    )
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    entries = list(await session.scalars(query))
    visits = _gather(entries)
    audit.record(session, actor=actor, action="read", resource_type="access_log", patient_id=patient_id)
    return AccessLog(
        visits=await _named(session, visits),
        next_cursor=entries[-1].seq if len(entries) == ENTRIES_PER_PAGE else None,
    )


def _gather(entries: list[AuditEvent]) -> list[_Visit]:
    # Entries come newest first; a visit grows backwards while the same person's accesses are close.
    visits: list[_Visit] = []
    open_by_actor: dict[uuid.UUID, _Visit] = {}
    for entry in entries:
        assert entry.actor_id is not None and entry.actor_role is not None  # filtered in the query
        visit = open_by_actor.get(entry.actor_id)
        if visit is None or visit.first_at - entry.occurred_at > VISIT_GAP:
            visit = _Visit(entry.actor_id, entry.actor_role, entry.occurred_at, entry.occurred_at)
            open_by_actor[entry.actor_id] = visit
            visits.append(visit)
        visit.first_at = entry.occurred_at
        thing = THINGS.get(entry.resource_type, entry.resource_type.replace("_", " "))
        (visit.viewed if entry.action in READ_ACTIONS else visit.changed).add(thing)
    return visits


async def _named(session: AsyncSession, visits: list[_Visit]) -> list[AccessVisit]:
    actor_ids = {visit.actor_id for visit in visits}
    if not actor_ids:
        return []
    found = await session.execute(select(User.id, User.full_name).where(User.id.in_(actor_ids)))
    names = {user_id: name for user_id, name in found}
    rows = await session.execute(
        select(Practitioner.user_id, Department.name)
        .join(Department, Department.id == Practitioner.department_id)
        .where(Practitioner.user_id.in_(actor_ids))
    )
    departments = {user_id: name for user_id, name in rows}
    return [
        AccessVisit(
            actor_name=names.get(visit.actor_id, "A former member of staff"),
            role=visit.role,
            department=departments.get(visit.actor_id),
            first_at=visit.first_at,
            last_at=visit.last_at,
            viewed=sorted(visit.viewed),
            changed=sorted(visit.changed),
        )
        for visit in visits
    ]
