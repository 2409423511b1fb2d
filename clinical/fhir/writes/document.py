"""DocumentReference: a document sent inline (attachment.data, base64) is stored in the patient's
record through the documents service (type checked by content, size capped, hashed); delete hides
it (staff), as in the REST API. A stored document does not change."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any

from clinical import documents
from clinical.documents import DocumentKind, DocumentUpload
from clinical.fhir.constants import DOCUMENT_KIND
from clinical.fhir.errors import InvalidResource
from clinical.fhir.provider import FhirContext
from clinical.fhir.writes import reading
from clinical.fhir.writes.base import Writer, build


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class DocumentReferenceWriter(Writer):
    resource_type = "DocumentReference"
    can_update = False
    can_delete = True
    refusal = "A stored document does not change; add a new one."

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        patient_id = reading.reference_id(resource, "subject", "Patient")
        assert patient_id is not None
        encoded = reading.text(resource, "content.0.attachment.data")
        if encoded is None:
            raise InvalidResource(
                "content[0].attachment.data must hold the document (base64); urls are not fetched."
            )
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidResource("content[0].attachment.data is not base64.") from None
        kind = reading.code(resource, "type", DOCUMENT_KIND) or DocumentKind.OTHER.value
        title = (
            reading.text(resource, "description")
            or reading.text(resource, "content.0.attachment.title")
            or "Document"
        )
        document = await documents.upload_document(
            session=ctx.session,
            actor=ctx.principal,
            storage=ctx.storage,
            patient_id=patient_id,
            upload=build(DocumentUpload, title=title, kind=kind),
            filename=reading.text(resource, "content.0.attachment.title"),
            declared_type=reading.text(resource, "content.0.attachment.contentType"),
            chunks=_one_chunk(data),
            max_bytes=ctx.document_max_bytes,
        )
        return str(document.id)

    async def delete(self, ctx: FhirContext, resource_id: str) -> None:
        await documents.delete_document(
            session=ctx.session,
            actor=ctx.principal,
            document_id=reading.parse_id(resource_id, self.resource_type),
        )
