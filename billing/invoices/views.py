"""Invoices as the API shows them: the stored figures with the patient's name and MRN."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from billing.invoices.models import Invoice
from billing.invoices.schemas import InvoiceRead
from billing.patient_labels import UNKNOWN, patient_labels


async def invoice_views(session: AsyncSession, invoices: list[Invoice]) -> list[InvoiceRead]:
    """The API's view of each invoice, the patients' names read in one query."""
    labels = await patient_labels(session, (i.patient_id for i in invoices))
    views = []
    for invoice in invoices:
        label = labels.get(invoice.patient_id, UNKNOWN)
        view = InvoiceRead.model_validate(invoice)
        views.append(view.model_copy(update={"patient_name": label.name, "patient_mrn": label.mrn}))
    return views


async def invoice_view(session: AsyncSession, invoice: Invoice) -> InvoiceRead:
    """The API's view of one invoice."""
    return (await invoice_views(session, [invoice]))[0]
