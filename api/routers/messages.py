"""Secure messages between patients and care teams: conversations, replies with attachments (multipart,
like document uploads), read markers, the staff's triage inbox per department."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Query, Response, UploadFile

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.routers.documents import StorageDep
from clinical import messaging
from clinical.documents import CHUNK_BYTES
from clinical.messaging import (
    CareTeam,
    DepartmentInbox,
    IncomingFile,
    MessageForm,
    MessageRead,
    ThreadDetail,
    ThreadStart,
    ThreadStatus,
    ThreadSummary,
    UnreadCount,
)
from core.paging import Page

router = APIRouter(prefix="/message-threads", tags=["messages"])


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


def _incoming(files: list[UploadFile] | None) -> list[IncomingFile]:
    # Browsers send an empty file part for an empty file input: that is no attachment.
    return [
        IncomingFile(filename=f.filename, declared_type=f.content_type, chunks=_chunks(f))
        for f in files or []
        if f.filename or f.size
    ]


@router.get("/care-teams", response_model=list[CareTeam], summary="The care teams one may write to")
async def care_teams(actor: CurrentPrincipal, session: SessionDep) -> list[CareTeam]:
    return await messaging.care_teams(session=session, actor=actor)


@router.get(
    "/inboxes", response_model=list[DepartmentInbox], summary="Each department's triage numbers (staff)"
)
async def inboxes(actor: CurrentPrincipal, session: SessionDep) -> list[DepartmentInbox]:
    return await messaging.department_inboxes(session=session, actor=actor)


@router.get("/unread-count", response_model=UnreadCount, summary="The caller's unread messages")
async def unread_count(actor: CurrentPrincipal, session: SessionDep) -> UnreadCount:
    return await messaging.unread_count(session=session, actor=actor)


@router.get("", response_model=Page[ThreadSummary], summary="Conversations, newest first")
async def list_threads(
    actor: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
    status: ThreadStatus | None = None,
    awaiting_team: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[ThreadSummary]:
    return await messaging.list_threads(
        session=session,
        actor=actor,
        patient_id=patient_id,
        department_id=department_id,
        status=status,
        awaiting_team=awaiting_team,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "", status_code=201, response_model=ThreadDetail, summary="Start a conversation with a care team"
)
async def start_thread(
    form: Annotated[ThreadStart, Form()],
    actor: CurrentPrincipal,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    files: list[UploadFile] | None = None,
) -> ThreadDetail:
    return await messaging.start_thread(
        session=session,
        actor=actor,
        storage=storage,
        start=form,
        files=_incoming(files),
        max_bytes=settings.document_max_bytes,
    )


@router.get("/{thread_id}", response_model=ThreadDetail, summary="One conversation with its messages")
async def get_thread(thread_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> ThreadDetail:
    return await messaging.get_thread(session=session, actor=actor, thread_id=thread_id)


@router.post(
    "/{thread_id}/messages", status_code=201, response_model=MessageRead, summary="Reply, with attachments"
)
async def post_message(
    thread_id: uuid.UUID,
    form: Annotated[MessageForm, Form()],
    actor: CurrentPrincipal,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    files: list[UploadFile] | None = None,
) -> MessageRead:
    return await messaging.post_message(
        session=session,
        actor=actor,
        storage=storage,
        thread_id=thread_id,
        body=form.body,
        files=_incoming(files),
        max_bytes=settings.document_max_bytes,
    )


@router.post("/{thread_id}/read", status_code=204, summary="Mark a conversation read up to its last message")
async def mark_read(thread_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Response:
    await messaging.mark_read(session=session, actor=actor, thread_id=thread_id)
    return Response(status_code=204)


@router.post("/{thread_id}/close", response_model=ThreadDetail, summary="Close a conversation (staff)")
async def close_thread(thread_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> ThreadDetail:
    return await messaging.close_thread(session=session, actor=actor, thread_id=thread_id)
