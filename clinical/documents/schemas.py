"""What the documents endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from clinical.documents.models import TITLE_MAX_LENGTH, DocumentKind

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH)]


class DocumentUpload(BaseModel):
    """The form fields beside the file (not `extra="forbid"`: the file is a field of the same form)."""

    title: Title
    kind: DocumentKind = DocumentKind.OTHER


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    title: str
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: str
    filename: str
    uploaded_by: uuid.UUID
    created_at: datetime
