"""What the note endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from clinical.encounters.notes.models import NOTE_MAX_CHARS

# Leading and trailing blank lines are dropped; the note's own layout is kept.
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX_CHARS)]
_STRICT = ConfigDict(extra="forbid")


class NoteWrite(BaseModel):
    """The text of a new note, of a draft's new version, or of an addendum."""

    model_config = _STRICT

    text: NoteText


class AddendumRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    note_id: uuid.UUID
    author_id: uuid.UUID
    text: str
    created_at: datetime


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    encounter_id: uuid.UUID
    patient_id: uuid.UUID
    author_id: uuid.UUID
    text: str
    signed_at: datetime | None
    signed_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    addenda: list[AddendumRead]
