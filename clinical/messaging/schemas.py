"""What the messaging endpoints accept and return."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from clinical.messaging.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH, ThreadStatus

Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SUBJECT_MAX_LENGTH)
]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BODY_MAX_LENGTH)]
# A message carries at most this many files; together they stay under the document size limit.
MAX_ATTACHMENTS = 3


class ThreadStart(BaseModel):
    """A new conversation: with a care team (a department); staff name the patient too.

    Form fields beside the files (not `extra="forbid"`: the files are fields of the same form)."""

    department_id: uuid.UUID
    subject: Subject
    body: Body
    patient_id: uuid.UUID | None = None


class MessageForm(BaseModel):
    body: Body


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """An attached file as it arrives: its bytes are streamed into the documents service."""

    filename: str | None
    declared_type: str | None
    chunks: AsyncIterator[bytes]


class AttachmentRead(BaseModel):
    document_id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int


class MessageRead(BaseModel):
    id: uuid.UUID
    thread_id: uuid.UUID
    author_name: str
    author_role: str
    from_patient: bool
    body: str
    created_at: datetime
    attachments: list[AttachmentRead]


class ThreadSummary(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    patient_mrn: str
    department_id: uuid.UUID
    department_name: str
    subject: str
    status: ThreadStatus
    last_message_at: datetime
    awaiting_team: bool
    # Messages from others that the caller has not read yet.
    unread: int


class ThreadDetail(ThreadSummary):
    messages: list[MessageRead]


class UnreadCount(BaseModel):
    unread: int


class CareTeam(BaseModel):
    """A department a patient may write to."""

    id: uuid.UUID
    name: str


class DepartmentInbox(BaseModel):
    """A department's triage numbers: open conversations, and those waiting for the team."""

    department_id: uuid.UUID
    name: str
    open: int
    awaiting_team: int
    # The caller's own department (as a practitioner), offered first.
    mine: bool
