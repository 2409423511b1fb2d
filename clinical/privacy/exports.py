"""A patient's whole record as downloads: a FHIR R4 bundle (the `$everything` mapping) for systems and a
PDF for people. Each download is audited as an export, besides the reads it is made of."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical import documents, fhir, messaging
from clinical.fhir import EVERYTHING_LIMIT_PER_TYPE
from clinical.privacy.record_pdf import ConversationText, DocumentLine, render_record
from core import audit
from core.db import utc_now
from core.principal import Principal

# The PDF lists this many conversations and documents at most (newest first); the rest stay online.
MOST_LISTED = 100


async def record_bundle(
    *, session: AsyncSession, actor: Principal, base_url: str, patient_id: uuid.UUID
) -> dict[str, Any]:
    """The whole record as one FHIR Bundle, for the patient or staff (scoped and audited by FHIR)."""
    bundle = await _everything(session, actor, base_url, patient_id)
    _audit(session, actor, patient_id, "fhir")
    return bundle


async def record_pdf(
    *, session: AsyncSession, actor: Principal, base_url: str, patient_id: uuid.UUID
) -> bytes:
    """The whole record as a readable PDF, with the conversations and the list of documents."""
    bundle = await _everything(session, actor, base_url, patient_id)
    threads = await messaging.list_threads(
        session=session, actor=actor, patient_id=patient_id, limit=MOST_LISTED
    )
    conversations = []
    for summary in threads.items:
        thread = await messaging.get_thread(session=session, actor=actor, thread_id=summary.id)
        lines = [(m.created_at, m.author_name, m.body) for m in thread.messages]
        conversations.append(ConversationText(thread.subject, thread.department_name, lines))
    page = await documents.list_documents(
        session=session, actor=actor, patient_id=patient_id, limit=MOST_LISTED
    )
    files = [DocumentLine(d.title, d.created_at, d.filename) for d in page.items]
    _audit(session, actor, patient_id, "pdf")
    # fpdf2 is pure Python and CPU-bound: a thread keeps the event loop serving meanwhile.
    return await asyncio.to_thread(
        render_record, bundle, generated_at=utc_now(), conversations=conversations, documents=files
    )


async def _everything(
    session: AsyncSession, actor: Principal, base_url: str, patient_id: uuid.UUID
) -> dict[str, Any]:
    return await fhir.patient_everything(
        session=session,
        principal=actor,
        base_url=base_url,
        patient_id=str(patient_id),
        query=(),  # the whole record: no date, type or paging narrows it
        limit_per_type=EVERYTHING_LIMIT_PER_TYPE,
    )


def _audit(session: AsyncSession, actor: Principal, patient_id: uuid.UUID, form: str) -> None:
    audit.record(
        session,
        actor=actor,
        action="export",
        resource_type="patient_record",
        resource_id=patient_id,
        patient_id=patient_id,
        detail={"format": form},
    )
