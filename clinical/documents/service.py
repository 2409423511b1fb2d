"""Documents of a patient's record: upload (type checked by content, size capped, hashed), list,
read, download (checksum verified before the first byte is sent) and soft delete.

Staff reach every patient's documents; a patient uploads to and reads only their own record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from clinical.documents.content_types import SNIFF_BYTES, detect_content_type, safe_filename
from clinical.documents.exceptions import DocumentIntegrityError
from clinical.documents.models import Document, DocumentKind
from clinical.documents.schemas import DocumentRead, DocumentUpload
from clinical.documents.storage import BlobCorrupt, BlobMissing, DocumentStorage
from clinical.encounters import load_patient, require_role
from core import audit, outbox
from core.access import load_in_scope
from core.db import utc_now
from core.errors import InvalidInput
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import STAFF_ROLES, Principal

# The default of OWNAT_DOCUMENT_MAX_BYTES: large enough for a scanned report or a photo.
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
RESOURCE = "document"
_audit = audit.RowAudit(RESOURCE, context=lambda document: {"kind": document.kind.value})
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """A document whose stored bytes matched their checksum, ready to stream."""

    document: Document
    chunks: AsyncIterator[bytes]


async def upload_document(
    *,
    session: AsyncSession,
    actor: Principal,
    storage: DocumentStorage,
    patient_id: uuid.UUID,
    upload: DocumentUpload,
    filename: str | None,
    declared_type: str | None,
    chunks: AsyncIterator[bytes],
    max_bytes: int = DOCUMENT_MAX_BYTES,
    announce: bool = True,
) -> Document:
    """Stores a PDF, PNG or JPEG in the patient's record; the content, not the name, decides its type.

    `announce=False` leaves the "new document" notification out, for a caller that sends its own
    (a message's attachment: the patient hears of the message)."""
    await load_patient(session, actor, patient_id, action="create", resource_type=RESOURCE)
    head, rest = await _read_head(chunks)
    if not head:
        raise InvalidInput("The file is empty.")
    content_type = detect_content_type(head, declared=declared_type)
    blob = await storage.save(_prepend(head, rest), max_bytes=max_bytes)
    # If this transaction does not commit, the file must not outlive it.
    _discard_on_rollback(session, storage, blob.key)
    document = Document(
        id=uuid.uuid4(),
        patient_id=patient_id,
        title=upload.title,
        kind=upload.kind,
        content_type=content_type,
        size_bytes=blob.size_bytes,
        sha256=blob.sha256,
        storage_key=blob.key,
        filename=safe_filename(filename, content_type=content_type),
        uploaded_by=actor.user_id,
        created_at=utc_now(),
    )
    session.add(document)
    await session.flush()
    _audit(session, actor, "create", document, size_bytes=blob.size_bytes, sha256=blob.sha256)
    if announce:
        outbox.record(
            session,
            event_type=outbox.EventType.DOCUMENT_ADDED,
            document_id=document.id,
            patient_id=patient_id,
        )
    return document


async def list_documents(
    *,
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID,
    kind: DocumentKind | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[DocumentRead]:
    """The patient's documents, newest first, without deleted ones."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    await load_patient(session, actor, patient_id, action="list", resource_type=RESOURCE)
    query = select(Document).where(Document.patient_id == patient_id, Document.deleted.is_(False))
    if kind is not None:
        query = query.where(Document.kind == kind)
    query = newest_first(
        query, time_column=Document.created_at, id_column=Document.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(session, actor, rows, action="list", resource_type=RESOURCE, patient_id=patient_id)
    return Page[DocumentRead](
        items=[DocumentRead.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    )


async def get_document(*, session: AsyncSession, actor: Principal, document_id: uuid.UUID) -> Document:
    """A document's metadata, if its patient is in the caller's scope."""
    document = await _load(session, actor, document_id, action="read")
    _audit(session, actor, "read", document)
    return document


async def open_document(
    *, session: AsyncSession, actor: Principal, storage: DocumentStorage, document_id: uuid.UUID
) -> DocumentContent:
    """The document's bytes, after checking them against the checksum taken at upload."""
    document = await _load(session, actor, document_id, action="download")
    try:
        chunks = await storage.open_verified(document.storage_key, sha256=document.sha256)
    except (BlobMissing, BlobCorrupt) as error:
        problem = "missing" if isinstance(error, BlobMissing) else "corrupt"
        log.error(
            "stored document %s is %s", document.id, problem, extra={"storage_key": document.storage_key}
        )
        _audit(session, actor, "download", document, outcome="failure", problem=problem)
        raise DocumentIntegrityError(
            f"The stored file of document {document.id} is {problem}; it has been reported. "
            "Ask for the original to be uploaded again.",
        ) from None
    _audit(session, actor, "download", document)
    return DocumentContent(document=document, chunks=chunks)


async def delete_document(*, session: AsyncSession, actor: Principal, document_id: uuid.UUID) -> None:
    """Hides a document from lists and downloads; the record and file are retained. Staff only."""
    require_role(
        session, actor, STAFF_ROLES, action="delete", resource_type=RESOURCE, resource_id=document_id
    )
    document = await _load(session, actor, document_id, action="delete")
    document.deleted = True
    document.deleted_at = utc_now()
    document.deleted_by = actor.user_id
    await session.flush()
    _audit(session, actor, "delete", document)


async def _load(session: AsyncSession, actor: Principal, document_id: uuid.UUID, *, action: str) -> Document:
    return await load_in_scope(
        session,
        actor,
        Document,
        document_id,
        action=action,
        resource_type=RESOURCE,
        missing=f"There is no document with id {document_id}.",
        gone=lambda document: document.deleted,
    )


async def _read_head(chunks: AsyncIterator[bytes]) -> tuple[bytes, AsyncIterator[bytes]]:
    """At least the bytes the type check needs (fewer only if the file is shorter)."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    return head, chunks


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


def _discard_on_rollback(session: AsyncSession, storage: DocumentStorage, key: str) -> None:
    def discard(_: Session) -> None:
        # A quick unlink on the failure path only; a leftover would merely be an unreferenced file.
        storage.discard(key)

    event.listen(session.sync_session, "after_rollback", discard, once=True)
