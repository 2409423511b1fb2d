"""Reading conversations: a patient's own, a department's triage inbox, a patient's for their chart;
one conversation with its messages; unread counts. Every read is audited with the patient's id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.documents import Document
from clinical.messaging.access import RESOURCE, load_thread, require_messaging_role
from clinical.messaging.models import (
    Message,
    MessageAttachment,
    MessageThread,
    ThreadReadMarker,
    ThreadStatus,
)
from clinical.messaging.schemas import (
    AttachmentRead,
    CareTeam,
    DepartmentInbox,
    MessageRead,
    ThreadDetail,
    ThreadSummary,
    UnreadCount,
)
from clinical.organisation import Department, Practitioner
from clinical.patients import Patient
from core import audit
from core.access import refuse
from core.errors import InvalidInput
from core.identity import User
from core.paging import Page, encode_cursor, newest_first, split_page
from core.principal import Principal, Role

MAX_PAGE_SIZE = 100


async def list_threads(
    *,
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
    status: ThreadStatus | None = None,
    awaiting_team: bool | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[ThreadSummary]:
    """Conversations newest first: a patient's own; for staff, one department's or one patient's."""
    require_messaging_role(session, actor, action="list")
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(MessageThread)
    if actor.role is Role.PATIENT:
        if patient_id is not None and patient_id != actor.patient_id:
            refuse(
                session,
                actor,
                action="list",
                resource_type=RESOURCE,
                patient_id=patient_id,
                message="Patients may only read their own conversations.",
            )
        patient_id = actor.patient_id
    elif patient_id is None and department_id is None:
        raise InvalidInput("Name a department (the triage inbox) or a patient (their conversations).")
    if patient_id is not None:
        query = query.where(MessageThread.patient_id == patient_id)
    if department_id is not None:
        query = query.where(MessageThread.department_id == department_id)
    if status is not None:
        query = query.where(MessageThread.status == status)
    if awaiting_team is not None:
        query = query.where(MessageThread.awaiting_team.is_(awaiting_team))
    query = newest_first(
        query,
        time_column=MessageThread.last_message_at,
        id_column=MessageThread.id,
        cursor=cursor,
        limit=limit,
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(session, actor, rows, action="list", resource_type=RESOURCE, patient_id=patient_id)
    return Page(
        items=await summarise(session, actor, rows),
        next_cursor=encode_cursor(rows[-1].last_message_at, rows[-1].id) if more else None,
    )


async def get_thread(*, session: AsyncSession, actor: Principal, thread_id: uuid.UUID) -> ThreadDetail:
    """One conversation with all its messages and attachments."""
    thread = await load_thread(session, actor, thread_id, action="read")
    detail = await thread_detail(session, actor, thread)
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=RESOURCE,
        resource_id=thread.id,
        patient_id=thread.patient_id,
        detail={"messages": len(detail.messages)},
    )
    return detail


async def thread_detail(session: AsyncSession, actor: Principal, thread: MessageThread) -> ThreadDetail:
    """The conversation as the caller sees it (not audited: callers audit what they did)."""
    (summary,) = await summarise(session, actor, [thread])
    rows = await session.execute(
        select(Message, User.full_name)
        .join(User, User.id == Message.author_id)
        .where(Message.thread_id == thread.id)
        .order_by(Message.created_at, Message.id)
    )
    messages = list(rows)
    files = await _attachments(session, [message.id for message, _ in messages])
    return ThreadDetail(
        **summary.model_dump(),
        messages=[
            MessageRead(
                id=message.id,
                thread_id=message.thread_id,
                author_name=name,
                author_role=message.author_role,
                from_patient=message.author_role == Role.PATIENT.value,
                body=message.body,
                created_at=message.created_at,
                attachments=files.get(message.id, []),
            )
            for message, name in messages
        ],
    )


async def summarise(
    session: AsyncSession, actor: Principal, threads: Sequence[MessageThread]
) -> list[ThreadSummary]:
    """Threads with their patient's and department's names and the caller's unread count."""
    if not threads:
        return []
    patients = await _patient_names(session, {t.patient_id for t in threads})
    named = await session.execute(
        select(Department.id, Department.name).where(Department.id.in_({t.department_id for t in threads}))
    )
    departments = {department_id: name for department_id, name in named}
    unread = await _unread_by_thread(session, actor, MessageThread.id.in_([t.id for t in threads]))
    return [
        ThreadSummary(
            id=thread.id,
            patient_id=thread.patient_id,
            patient_name=patients.get(thread.patient_id, ("", ""))[0],
            patient_mrn=patients.get(thread.patient_id, ("", ""))[1],
            department_id=thread.department_id,
            department_name=departments.get(thread.department_id, ""),
            subject=thread.subject,
            status=thread.status,
            last_message_at=thread.last_message_at,
            awaiting_team=thread.awaiting_team,
            unread=unread.get(thread.id, 0),
        )
        for thread in threads
    ]


async def unread_count(*, session: AsyncSession, actor: Principal) -> UnreadCount:
    """Unread messages: a patient's in their conversations, a staff member's in their department's."""
    require_messaging_role(session, actor, action="read")
    if actor.role is Role.PATIENT:
        which = MessageThread.patient_id == actor.patient_id
    else:
        own = select(Practitioner.department_id).where(Practitioner.user_id == actor.user_id)
        which = and_(MessageThread.department_id.in_(own), MessageThread.status == ThreadStatus.OPEN)
    counts = await _unread_by_thread(session, actor, which)
    return UnreadCount(unread=sum(counts.values()))


async def care_teams(*, session: AsyncSession, actor: Principal) -> list[CareTeam]:
    """The care teams one may write to: every active department, by name."""
    require_messaging_role(session, actor, action="list")
    departments = await session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    )
    return [CareTeam(id=department.id, name=department.name) for department in departments]


async def department_inboxes(*, session: AsyncSession, actor: Principal) -> list[DepartmentInbox]:
    """Every active department with its open and waiting conversations; staff only."""
    require_messaging_role(session, actor, action="list")
    if actor.role is Role.PATIENT:
        refuse(
            session, actor, action="list", resource_type=RESOURCE, message="The triage inbox is for staff."
        )
    own = await session.scalar(
        select(Practitioner.department_id).where(Practitioner.user_id == actor.user_id)
    )
    counts = await session.execute(
        select(
            MessageThread.department_id,
            func.count(),
            func.count().filter(MessageThread.awaiting_team.is_(True)),
        )
        .where(MessageThread.status == ThreadStatus.OPEN)
        .group_by(MessageThread.department_id)
    )
    by_department = {department: (open_, waiting) for department, open_, waiting in counts}
    departments = await session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.name)
    )
    inboxes = [
        DepartmentInbox(
            department_id=department.id,
            name=department.name,
            open=by_department.get(department.id, (0, 0))[0],
            awaiting_team=by_department.get(department.id, (0, 0))[1],
            mine=department.id == own,
        )
        for department in departments
    ]
    return sorted(inboxes, key=lambda inbox: not inbox.mine)


async def _unread_by_thread(session: AsyncSession, actor: Principal, which: Any) -> dict[uuid.UUID, int]:
    # Messages by others after the caller's read marker (all of them where the caller has none).
    marker = and_(ThreadReadMarker.thread_id == Message.thread_id, ThreadReadMarker.user_id == actor.user_id)
    rows = await session.execute(
        select(Message.thread_id, func.count())
        .join(MessageThread, MessageThread.id == Message.thread_id)
        .outerjoin(ThreadReadMarker, marker)
        .where(
            which,
            Message.author_id != actor.user_id,
            or_(ThreadReadMarker.read_up_to.is_(None), Message.created_at > ThreadReadMarker.read_up_to),
        )
        .group_by(Message.thread_id)
    )
    return {thread_id: count for thread_id, count in rows}


async def _patient_names(
    session: AsyncSession, patient_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str]]:
    # Staff tell patients apart by name and medical record number.
    rows = await session.execute(
        select(Patient.id, Patient.given_name, Patient.family_name, Patient.mrn).where(
            Patient.id.in_(patient_ids)
        )
    )
    return {patient_id: (f"{given} {family}".strip(), mrn) for patient_id, given, family, mrn in rows}


async def _attachments(
    session: AsyncSession, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AttachmentRead]]:
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageAttachment.message_id, Document)
        .join(Document, Document.id == MessageAttachment.document_id)
        .where(MessageAttachment.message_id.in_(message_ids), Document.deleted.is_(False))
        .order_by(Document.created_at)
    )
    found: dict[uuid.UUID, list[AttachmentRead]] = {}
    for message_id, document in rows:
        found.setdefault(message_id, []).append(
            AttachmentRead(
                document_id=document.id,
                filename=document.filename,
                content_type=document.content_type,
                size_bytes=document.size_bytes,
            )
        )
    return found
