"""Medical records: upload documents to a patient's record, list, read, download and soft delete.

Uploads are multipart (`file` plus `title` and `kind` fields) and may be larger than the API's
default body limit: the app gives the upload path its own limit (`OWNAT_DOCUMENT_MAX_BYTES`).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from clinical import documents
from clinical.documents import (
    CHUNK_BYTES,
    DocumentKind,
    DocumentRead,
    DocumentStorage,
    DocumentUpload,
    FileSystemStorage,
    content_disposition,
)
from core.paging import MAX_PAGE_SIZE, Page

router = APIRouter(tags=["documents"])


async def get_document_storage(settings: SettingsDep) -> DocumentStorage:
    """The filesystem store under the data directory (a cheap object: it holds only a path)."""
    return FileSystemStorage(settings.data_dir.absolute() / "documents")


StorageDep = Annotated[DocumentStorage, Depends(get_document_storage)]


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


@router.post(
    "/patients/{patient_id}/documents",
    status_code=201,
    response_model=DocumentRead,
    summary="Upload a PDF, PNG or JPEG to a patient's record",
)
async def upload_document(
    patient_id: uuid.UUID,
    file: UploadFile,
    form: Annotated[DocumentUpload, Form()],
    actor: CurrentPrincipal,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> DocumentRead:
    document = await documents.upload_document(
        session=session,
        actor=actor,
        storage=storage,
        max_bytes=settings.document_max_bytes,
        patient_id=patient_id,
        upload=form,
        filename=file.filename,
        declared_type=file.content_type,
        chunks=_upload_chunks(file),
    )
    return DocumentRead.model_validate(document)


@router.get(
    "/patients/{patient_id}/documents",
    response_model=Page[DocumentRead],
    summary="A patient's documents, newest first",
)
async def list_documents(
    patient_id: uuid.UUID,
    actor: CurrentPrincipal,
    session: SessionDep,
    kind: DocumentKind | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Page[DocumentRead]:
    return await documents.list_documents(
        session=session, actor=actor, patient_id=patient_id, kind=kind, cursor=cursor, limit=limit
    )


@router.get("/documents/{document_id}", response_model=DocumentRead, summary="A document's metadata")
async def get_document(document_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> DocumentRead:
    document = await documents.get_document(session=session, actor=actor, document_id=document_id)
    return DocumentRead.model_validate(document)


@router.get(
    "/documents/{document_id}/content",
    response_class=StreamingResponse,
    summary="Download a document (its checksum is verified first)",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}},
)
async def download_document(
    document_id: uuid.UUID,
    actor: CurrentPrincipal,
    session: SessionDep,
    storage: StorageDep,
    inline: Annotated[bool, Query(description="Ask the browser to display it rather than save it")] = False,
) -> StreamingResponse:
    content = await documents.open_document(
        session=session, actor=actor, storage=storage, document_id=document_id
    )
    document = content.document
    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode()
    headers = {
        "Content-Length": str(document.size_bytes),
        "Content-Disposition": content_disposition(document.filename, inline=inline),
        "ETag": f'"{document.sha256}"',
        "Repr-Digest": f"sha-256=:{digest}:",  # RFC 9530: the client can check what it received
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(content.chunks, media_type=document.content_type, headers=headers)


@router.delete(
    "/documents/{document_id}", status_code=204, summary="Remove a document from the record (soft)"
)
async def delete_document(document_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Response:
    await documents.delete_document(session=session, actor=actor, document_id=document_id)
    return Response(status_code=204)
