"""Data-subject requests: a patient (or an administrator for them) asks for access, a
correction or erasure; an administrator answers. Erasure erases what the law lets go and restricts
what it requires us to keep (`retention`). Every step is audited; the patient is told of the answer.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import load_patient, require_role
from clinical.patients import Patient
from clinical.privacy.models import DataRequest, ProcessingRestriction, RequestKind, RequestStatus
from clinical.privacy.retention import erasure_plan
from clinical.privacy.schemas import (
    DataRequestAdminRead,
    DataRequestAnswer,
    DataRequestCreate,
    DataRequestRead,
    Decision,
    RestrictionRead,
)
from core import audit, identity, outbox
from core.access import require_patient_scope
from core.db import utc_now
from core.errors import Conflict, InvalidInput, NotFound
from core.identity import User
from core.principal import Principal, Role
from core.settings import Settings

RESOURCE = "data_request"
_audit = audit.RowAudit(RESOURCE, context=lambda row: {"kind": row.kind.value})


async def is_restricted(session: AsyncSession, *, patient_id: uuid.UUID) -> bool:
    """Whether the patient's record is kept only because the law requires it (processing restricted)."""
    return await session.get(ProcessingRestriction, patient_id) is not None


async def restriction_of(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID
) -> RestrictionRead | None:
    """The record's processing restriction, if any (staff, and the patient)."""
    await load_patient(session, actor, patient_id, action="read", resource_type="processing_restriction")
    row = await session.get(ProcessingRestriction, patient_id)
    audit.record(
        session, actor=actor, action="read", resource_type="processing_restriction", patient_id=patient_id
    )
    return RestrictionRead.model_validate(row) if row else None


async def create_request(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID, request: DataRequestCreate
) -> DataRequestRead:
    """Files a request about the patient's data: by the patient, or by an administrator for them."""
    require_role(session, actor, (Role.PATIENT, Role.ADMIN), action="create", resource_type=RESOURCE)
    await load_patient(session, actor, patient_id, action="create", resource_type=RESOURCE)
    row = DataRequest(
        id=uuid.uuid4(),
        patient_id=patient_id,
        kind=request.kind,
        status=RequestStatus.OPEN,
        details=request.details,
        requested_by=actor.user_id,
        outcome=[],
    )
    session.add(row)
    await session.flush()
    _audit(session, actor, "create", row, kind=row.kind.value)
    return DataRequestRead.model_validate(row)


async def patient_requests(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID
) -> list[DataRequestRead]:
    """The patient's requests, newest first (the patient, or an administrator)."""
    require_role(session, actor, (Role.PATIENT, Role.ADMIN), action="list", resource_type=RESOURCE)
    await load_patient(session, actor, patient_id, action="list", resource_type=RESOURCE)
    rows = await session.scalars(
        select(DataRequest)
        .where(DataRequest.patient_id == patient_id)
        .order_by(DataRequest.created_at.desc())
    )
    found = [DataRequestRead.model_validate(row) for row in rows]
    audit.record(session, actor=actor, action="list", resource_type=RESOURCE, patient_id=patient_id)
    return found


async def list_requests(
    *, session: AsyncSession, actor: Principal, status: RequestStatus | None, kind: RequestKind | None
) -> list[DataRequestAdminRead]:
    """Requests of every patient, oldest open first (administrators)."""
    require_role(session, actor, (Role.ADMIN,), action="list", resource_type=RESOURCE)
    query = select(DataRequest).order_by(DataRequest.created_at).limit(200)
    if status is not None:
        query = query.where(DataRequest.status == status)
    if kind is not None:
        query = query.where(DataRequest.kind == kind)
    rows = list(await session.scalars(query))
    for row in rows:
        _audit(session, actor, "read", row)
    return [await _admin_view(session, row) for row in rows]


async def plan_erasure(
    *, session: AsyncSession, actor: Principal, request_id: uuid.UUID, settings: Settings
) -> list[Decision]:
    """What answering this erasure request would erase, restrict and keep (administrators)."""
    row = await _load_for_admin(session, actor, request_id, action="plan")
    if row.kind is not RequestKind.ERASURE:
        raise InvalidInput("Only an erasure request has an erasure plan.")
    _audit(session, actor, "plan", row)
    return await erasure_plan(session, patient_id=row.patient_id, settings=settings)


async def answer_request(
    *,
    session: AsyncSession,
    actor: Principal,
    request_id: uuid.UUID,
    answer: DataRequestAnswer,
    grant: bool,
    settings: Settings,
) -> DataRequestAdminRead:
    """Completes or refuses an open request with the administrator's answer; completing an erasure
    request erases what may be erased and restricts the rest (see `retention`)."""
    row = await _load_for_admin(session, actor, request_id, action="answer", for_update=True)
    if row.status is not RequestStatus.OPEN:
        raise Conflict(f"This request was already {row.status.value}.")
    row.status = RequestStatus.COMPLETED if grant else RequestStatus.REFUSED
    row.response, row.handled_by, row.handled_at = answer.response, actor.user_id, utc_now()
    if grant and row.kind is RequestKind.ERASURE:
        await _erase(session, actor, row, settings)
    else:
        outbox.record(
            session,
            event_type=outbox.EventType.DATA_REQUEST_ANSWERED,
            patient_id=row.patient_id,
            request_id=row.id,
        )
    await session.flush()
    _audit(session, actor, "answer", row, status=row.status.value)
    return await _admin_view(session, row)


async def _erase(session: AsyncSession, actor: Principal, row: DataRequest, settings: Settings) -> None:
    plan = await erasure_plan(session, patient_id=row.patient_id, settings=settings)
    row.outcome = [decision.model_dump(mode="json") for decision in plan]
    kept = next(decision for decision in plan if decision.action == "restrict")
    assert kept.until is not None  # the medical record is kept until a date
    restriction = await session.get(ProcessingRestriction, row.patient_id)
    if restriction is None:
        restriction = ProcessingRestriction(patient_id=row.patient_id, restricted_by=actor.user_id)
        session.add(restriction)
    restriction.request_id, restriction.retain_until = row.id, kept.until
    restriction.reason = "Erasure requested; kept only as medical-records law requires."
    restriction.restricted_at, restriction.restricted_by = utc_now(), actor.user_id
    audit.record(
        session,
        actor=actor,
        action="restrict",
        resource_type="patient",
        resource_id=row.patient_id,
        patient_id=row.patient_id,
        detail={"until": kept.until.isoformat(), "request_id": str(row.id)},
    )
    user_id = await account_of(session, row.patient_id)
    if user_id is not None:
        email = await identity.erase_account(session, actor=actor, user_id=user_id)
        # Told at the address the account had, since the account is gone (the law asks us to tell them).
        outbox.record(
            session,
            event_type=outbox.EventType.ACCOUNT_ERASED,
            email=email,
            kept_until=kept.until.date().isoformat(),
        )


async def account_of(session: AsyncSession, patient_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the patient's sign-in account, if they have one (erased ones included)."""
    return await session.scalar(select(User.id).where(User.patient_id == patient_id))


async def _load_for_admin(
    session: AsyncSession, actor: Principal, request_id: uuid.UUID, *, action: str, for_update: bool = False
) -> DataRequest:
    require_role(session, actor, (Role.ADMIN,), action=action, resource_type=RESOURCE, resource_id=request_id)
    row = await session.get(DataRequest, request_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"There is no data request with id {request_id}.")
    require_patient_scope(session, actor, row.patient_id, action=action, resource_type=RESOURCE)
    return row


async def _admin_view(session: AsyncSession, row: DataRequest) -> DataRequestAdminRead:
    patient = await session.get(Patient, row.patient_id)
    assert patient is not None  # the foreign key keeps it
    requester = await session.get(User, row.requested_by)
    handler = await session.get(User, row.handled_by) if row.handled_by else None
    return DataRequestAdminRead(
        **DataRequestRead.model_validate(row).model_dump(),
        patient_name=f"{patient.given_name} {patient.family_name}".strip(),
        mrn=patient.mrn,
        requested_by_name=requester.full_name if requester else "",
        handled_by_name=handler.full_name if handler else None,
    )
