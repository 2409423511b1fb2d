"""DocumentReference: documents of the patient's record (PDF, PNG, JPEG), downloaded from the REST API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from clinical.documents import Document, DocumentKind
from clinical.fhir.constants import DOCUMENT_KIND
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, reference
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from core.principal import Principal

KIND_TEXT = {kind: kind.value.replace("_", " ").capitalize() for kind in DocumentKind}
FHIR_BASE_SUFFIX = "/fhir/R4"


class DocumentReferenceProvider(TableProvider):
    resource_type = "DocumentReference"
    documentation = "Documents of the patient's record; the attachment's url downloads the file."
    model = Document
    dated_by = Document.created_at
    order = (Document.created_at,)

    def patient_column(self) -> Any:
        return Document.patient_id

    def last_changed(self) -> Any:
        return Document.created_at  # documents never change; deletion hides them

    def base_query(self, principal: Principal) -> Select[Any]:
        return select(Document).where(Document.deleted.is_(False))

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(Document.patient_id),
            "type": SearchParameter(
                "type",
                ParamType.TOKEN,
                f"Kind of document ({DOCUMENT_KIND})",
                token_clause(Document.kind, system=DOCUMENT_KIND),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        api_root = ctx.base_url.removesuffix(FHIR_BASE_SUFFIX) + "/api/v1"
        return [Rendered(document_reference(row, api_root), row.patient_id) for row in rows]


def document_reference(document: Document, api_root: str) -> dict[str, Any]:
    """The FHIR DocumentReference of one stored document."""
    attachment = {
        "contentType": document.content_type,
        "url": f"{api_root}/documents/{document.id}/content",
        "size": document.size_bytes,
        "title": document.filename,
        "creation": instant(document.created_at),
    }
    return drop_empty(
        {
            "resourceType": "DocumentReference",
            "id": str(document.id),
            "meta": {"lastUpdated": instant(document.created_at)},
            "status": "current",
            "type": concept(DOCUMENT_KIND, document.kind.value, KIND_TEXT[document.kind]),
            "subject": reference("Patient", document.patient_id),
            "date": instant(document.created_at),
            "description": document.title,
            "content": [{"attachment": attachment}],
        }
    )
