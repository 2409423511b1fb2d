"""Attaching a finished recording to the patient's record as a document of the encounter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents import CHUNK_BYTES, Document, DocumentKind, FileSystemStorage, StoredBlob
from core import audit
from core.db import utc_now
from core.principal import Principal, Role
from core.sessions import transaction
from realtime.consult.peers.consent import RESOURCE
from realtime.consult.peers.recorder import Recording

CONTENT_TYPE = "video/webm"


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


async def attach_recording(
    *,
    sessions: async_sessionmaker[AsyncSession],
    storage: FileSystemStorage,
    recording: Recording,
    patient_id: uuid.UUID,
    clinician_user_id: uuid.UUID,
    max_bytes: int,
) -> uuid.UUID:
    """Stores the file in the document store and records it; its own transaction, as it may run at shutdown."""
    started = recording.started_at or utc_now()
    blob = await storage.save(_file_chunks(recording.path), max_bytes=max_bytes)
    try:
        document_id = await _record(sessions, recording, blob, patient_id, clinician_user_id, started)
    except BaseException:
        # The recording file stays where it is, so an operator can still attach it by hand.
        storage.discard(blob.key)
        raise
    await asyncio.to_thread(recording.path.unlink, missing_ok=True)
    return document_id


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    recording: Recording,
    blob: StoredBlob,
    patient_id: uuid.UUID,
    clinician_user_id: uuid.UUID,
    started: datetime,
) -> uuid.UUID:
    actor = Principal(user_id=clinician_user_id, role=Role.CLINICIAN)
    async with transaction(sessions) as session:
        document = Document(
            id=uuid.uuid4(),
            patient_id=patient_id,
            title=f"Video consultation recording, encounter {recording.encounter_id}",
            kind=DocumentKind.OTHER,
            content_type=CONTENT_TYPE,
            size_bytes=blob.size_bytes,
            sha256=blob.sha256,
            storage_key=blob.key,
            filename=f"consultation-{started:%Y%m%d-%H%M}.webm",
            uploaded_by=clinician_user_id,
            created_at=utc_now(),
        )
        # The recorder acts for the clinician: the document is theirs, like a note they would write.
        session.add(document)
        await session.flush()
        detail = {
            "encounter_id": str(recording.encounter_id),
            "sha256": blob.sha256,
            "size_bytes": blob.size_bytes,
        }
        audit.record(
            session,
            actor=actor,
            action="create",
            resource_type="document",
            resource_id=document.id,
            patient_id=patient_id,
            detail={"kind": DocumentKind.OTHER.value, **detail},
        )
        audit.record(
            session,
            actor=actor,
            action="attach",
            resource_type=RESOURCE,
            resource_id=recording.encounter_id,
            patient_id=patient_id,
            detail={"document_id": str(document.id), "started_at": started.isoformat()},
        )
    return document.id
