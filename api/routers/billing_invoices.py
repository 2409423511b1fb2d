"""Invoices: drafts built and edited by billing staff, issued, voided, listed and downloaded as PDF.

Patients list and download their own issued invoices; managers (billing, admin) everything.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from billing import invoices
from billing.invoices import (
    InvoiceCreate,
    InvoiceRead,
    InvoiceStatus,
    InvoiceUpdate,
    InvoiceVoid,
    LineUpdate,
    invoice_view,
    render_invoice,
)
from clinical.patients import Patient
from core.paging import MAX_PAGE_SIZE, Page

router = APIRouter(prefix="/billing/invoices", tags=["billing"])
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.post("", status_code=201, response_model=InvoiceRead, summary="Draft an invoice from charges")
async def create_invoice(
    body: InvoiceCreate, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InvoiceRead:
    invoice = await invoices.create_draft(session=session, actor=actor, new=body, currency=settings.currency)
    return await invoice_view(session, invoice)


@router.get("", response_model=Page[InvoiceRead], summary="Billing history, newest first")
async def list_invoices(
    actor: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    status: InvoiceStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[InvoiceRead]:
    return await invoices.list_invoices(
        session=session, actor=actor, patient_id=patient_id, status=status, cursor=cursor, limit=limit
    )


@router.get("/{invoice_id}", response_model=InvoiceRead, summary="One invoice with its lines")
async def get_invoice(invoice_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> InvoiceRead:
    return await invoice_view(
        session, await invoices.get_invoice(session=session, actor=actor, invoice_id=invoice_id)
    )


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The invoice as a PDF",
)
async def invoice_pdf(
    invoice_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> Response:
    invoice = await invoices.get_invoice(session=session, actor=actor, invoice_id=invoice_id)
    patient = await session.get(Patient, invoice.patient_id)
    assert patient is not None
    # Rendering is CPU work; a thread keeps the event loop serving other requests.
    content = await asyncio.to_thread(render_invoice, invoice, patient, issuer=settings.billing_issuer_name)
    filename = f"{invoice.number or 'draft-' + str(invoice.id)}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.patch("/{invoice_id}", response_model=InvoiceRead, summary="Edit a draft: note, more charges")
async def update_invoice(
    invoice_id: uuid.UUID, body: InvoiceUpdate, actor: CurrentPrincipal, session: SessionDep
) -> InvoiceRead:
    invoice = await invoices.update_draft(session=session, actor=actor, invoice_id=invoice_id, changes=body)
    return await invoice_view(session, invoice)


@router.delete("/{invoice_id}", status_code=204, summary="Discard a draft")
async def delete_invoice(invoice_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Response:
    await invoices.delete_draft(session=session, actor=actor, invoice_id=invoice_id)
    return Response(status_code=204)


@router.patch("/{invoice_id}/lines/{line_id}", response_model=InvoiceRead, summary="Discount a draft line")
async def update_line(
    invoice_id: uuid.UUID, line_id: uuid.UUID, body: LineUpdate, actor: CurrentPrincipal, session: SessionDep
) -> InvoiceRead:
    invoice = await invoices.update_line(
        session=session, actor=actor, invoice_id=invoice_id, line_id=line_id, changes=body
    )
    return await invoice_view(session, invoice)


@router.delete("/{invoice_id}/lines/{line_id}", response_model=InvoiceRead, summary="Remove a draft line")
async def remove_line(
    invoice_id: uuid.UUID, line_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> InvoiceRead:
    invoice = await invoices.remove_line(session=session, actor=actor, invoice_id=invoice_id, line_id=line_id)
    return await invoice_view(session, invoice)


@router.post("/{invoice_id}/issue", response_model=InvoiceRead, summary="Issue: number and freeze a draft")
async def issue_invoice(
    invoice_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> InvoiceRead:
    invoice = await invoices.issue_invoice(
        session=session,
        actor=actor,
        invoice_id=invoice_id,
        payment_terms_days=settings.billing_payment_terms_days,
    )
    return await invoice_view(session, invoice)


@router.post("/{invoice_id}/void", response_model=InvoiceRead, summary="Void an unpaid issued invoice")
async def void_invoice(
    invoice_id: uuid.UUID, body: InvoiceVoid, actor: CurrentPrincipal, session: SessionDep
) -> InvoiceRead:
    invoice = await invoices.void_invoice(
        session=session, actor=actor, invoice_id=invoice_id, reason=body.reason
    )
    return await invoice_view(session, invoice)
