"""Secure messages, the changes: start a conversation with a care team, reply with attachments, mark
read, close. The reads are in `reads`; other packages reach both through the package's front door.

A message is part of the medical record: it is never edited or deleted. Attachments go through the
documents service (type judged by content, size capped, hashed) into the patient's record. Each new
message tells the other side through the outbox (in the app, and by email without its content).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import documents
from clinical.documents import DocumentKind, DocumentStorage, DocumentUpload
from clinical.encounters import load_patient
from clinical.messaging.access import RESOURCE, load_thread, require_messaging_role
from clinical.messaging.models import (
    Message,
    MessageAttachment,
    MessageThread,
    ThreadReadMarker,
    ThreadStatus,
)
from clinical.messaging.reads import thread_detail
from clinical.messaging.schemas import (
    MAX_ATTACHMENTS,
    IncomingFile,
    MessageRead,
    ThreadDetail,
    ThreadStart,
)
from clinical.organisation import Department
from core import audit, outbox
from core.access import refuse, require_role
from core.db import utc_now
from core.errors import Conflict, InvalidInput
from core.principal import STAFF_ROLES, Principal, Role


async def start_thread(
    *,
    session: AsyncSession,
    actor: Principal,
    storage: DocumentStorage,
    start: ThreadStart,
    files: list[IncomingFile],
    max_bytes: int,
) -> ThreadDetail:
    """Opens a conversation between a patient and a department's care team, with its first message."""
    require_messaging_role(session, actor, action="create")
    patient_id = _patient_of_new_thread(session, actor, start)
    await load_patient(session, actor, patient_id, action="create", resource_type=RESOURCE)
    department = await session.get(Department, start.department_id)
    if department is None or not department.active:
        raise InvalidInput(
            f"There is no care team {start.department_id} to write to; choose one of the list.",
            extra={"field": "department_id"},
        )
    now = utc_now()
    thread = MessageThread(
        id=uuid.uuid4(),
        patient_id=patient_id,
        department_id=department.id,
        subject=start.subject,
        status=ThreadStatus.OPEN,
        started_by=actor.user_id,
        last_message_at=now,
        awaiting_team=False,
    )
    session.add(thread)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type=RESOURCE,
        resource_id=thread.id,
        patient_id=patient_id,
    )
    await _add_message(
        session, actor, storage, thread, body=start.body, files=files, max_bytes=max_bytes, now=now
    )
    return await thread_detail(session, actor, thread)


async def post_message(
    *,
    session: AsyncSession,
    actor: Principal,
    storage: DocumentStorage,
    thread_id: uuid.UUID,
    body: str,
    files: list[IncomingFile],
    max_bytes: int,
) -> MessageRead:
    """Adds a message (and its attachments) to an open conversation."""
    # Locked: two replies at once must both land and leave the thread's state of the later one.
    thread = await load_thread(session, actor, thread_id, action="create", for_update=True)
    if thread.status is ThreadStatus.CLOSED:
        raise Conflict("This conversation is closed; start a new one.")
    message = await _add_message(
        session, actor, storage, thread, body=body, files=files, max_bytes=max_bytes, now=utc_now()
    )
    detail = await thread_detail(session, actor, thread)
    return next(m for m in detail.messages if m.id == message.id)


async def mark_read(*, session: AsyncSession, actor: Principal, thread_id: uuid.UUID) -> None:
    """Records that the caller has read the conversation up to its last message."""
    thread = await load_thread(session, actor, thread_id, action="update", for_update=True)
    await _read_up_to(session, thread, actor, thread.last_message_at)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="mark-read",
        resource_type=RESOURCE,
        resource_id=thread.id,
        patient_id=thread.patient_id,
    )


async def close_thread(*, session: AsyncSession, actor: Principal, thread_id: uuid.UUID) -> ThreadDetail:
    """Closes a conversation that needs nothing more (staff); the patient can start a new one."""
    require_role(session, actor, STAFF_ROLES, action="close", resource_type=RESOURCE, resource_id=thread_id)
    thread = await load_thread(session, actor, thread_id, action="close", for_update=True)
    if thread.status is ThreadStatus.OPEN:
        thread.status, thread.closed_at, thread.closed_by = ThreadStatus.CLOSED, utc_now(), actor.user_id
        thread.awaiting_team = False
        await session.flush()
    audit.record(
        session,
        actor=actor,
        action="close",
        resource_type=RESOURCE,
        resource_id=thread.id,
        patient_id=thread.patient_id,
    )
    return await thread_detail(session, actor, thread)


def _patient_of_new_thread(session: AsyncSession, actor: Principal, start: ThreadStart) -> uuid.UUID:
    if actor.role is Role.PATIENT:
        assert actor.patient_id is not None  # every patient account owns a record id
        if start.patient_id not in (None, actor.patient_id):
            refuse(
                session,
                actor,
                action="create",
                resource_type=RESOURCE,
                patient_id=start.patient_id,
                message="Patients may only write about themselves.",
            )
        return actor.patient_id
    if start.patient_id is None:
        raise InvalidInput("Name the patient this conversation is with.", extra={"field": "patient_id"})
    return start.patient_id


async def _add_message(
    session: AsyncSession,
    actor: Principal,
    storage: DocumentStorage,
    thread: MessageThread,
    *,
    body: str,
    files: list[IncomingFile],
    max_bytes: int,
    now: datetime,
) -> Message:
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"A message carries at most {MAX_ATTACHMENTS} files.", extra={"field": "files"})
    from_patient = actor.role is Role.PATIENT
    message = Message(
        id=uuid.uuid4(),
        thread_id=thread.id,
        author_id=actor.user_id,
        author_role=actor.role.value,
        body=body,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    left = max_bytes
    for file in files:
        # Together a message's files stay within one document's limit (and one request body's).
        document = await documents.upload_document(
            session=session,
            actor=actor,
            storage=storage,
            patient_id=thread.patient_id,
            upload=DocumentUpload(
                title=f"Message attachment: {file.filename or 'file'}"[:200], kind=DocumentKind.OTHER
            ),
            filename=file.filename,
            declared_type=file.declared_type,
            chunks=file.chunks,
            max_bytes=left,
            announce=False,
        )
        left -= document.size_bytes
        session.add(MessageAttachment(message_id=message.id, document_id=document.id))
    thread.last_message_at = now
    thread.awaiting_team = from_patient
    await _read_up_to(session, thread, actor, now)
    outbox.record(
        session,
        event_type=outbox.EventType.MESSAGE_RECEIVED,
        thread_id=thread.id,
        message_id=message.id,
        patient_id=thread.patient_id,
        department_id=thread.department_id,
        author_id=actor.user_id,
        to="care_team" if from_patient else "patient",
    )
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="message",
        resource_id=message.id,
        patient_id=thread.patient_id,
        detail={"thread_id": str(thread.id), "attachments": len(files)},
    )
    return message


async def _read_up_to(
    session: AsyncSession, thread: MessageThread, actor: Principal, moment: datetime
) -> None:
    # Callers hold the thread's row lock, so one user's two marks never race to insert.
    marker = await session.get(ThreadReadMarker, (thread.id, actor.user_id))
    if marker is None:
        session.add(ThreadReadMarker(thread_id=thread.id, user_id=actor.user_id, read_up_to=moment))
    elif marker.read_up_to < moment:
        marker.read_up_to = moment
