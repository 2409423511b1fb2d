"""Draft invoices: built from a patient's uninvoiced charges, edited line by line until issued."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import not_found, require_manager
from billing.charges import ChargeItem
from billing.exceptions import AlreadyInvoiced, CurrencyMismatch
from billing.insurance import held_charge_ids
from billing.invoices.loading import lock_invoice, require_draft
from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from billing.invoices.schemas import InvoiceCreate, InvoiceUpdate, LineUpdate
from billing.invoices.totals import total_invoice
from billing.money import format_money
from clinical.patients import Patient
from core import audit
from core.errors import InvalidInput
from core.principal import Principal

RESOURCE = "invoice"
_audit = audit.RowAudit(RESOURCE)


async def create_draft(
    *, session: AsyncSession, actor: Principal, new: InvoiceCreate, currency: str
) -> Invoice:
    """A draft holding the patient's uninvoiced charges (or the ones named), totals computed."""
    require_manager(session, actor, action="create", resource_type=RESOURCE)
    if await session.get(Patient, new.patient_id) is None:
        raise not_found("patient", new.patient_id)
    invoice = Invoice(
        patient_id=new.patient_id,
        status=InvoiceStatus.DRAFT,
        currency=currency,
        note=new.note,
        created_by=actor.user_id,
        lines=[],
    )
    session.add(invoice)
    await session.flush()
    charges = await _claim_charges(session, invoice, new.charge_ids)
    if not charges:
        raise InvalidInput("This patient has no uninvoiced charges to put on an invoice.")
    _add_lines(invoice, charges)
    total_invoice(invoice)
    await session.flush()
    _audit(session, actor, "create", invoice)
    return invoice


async def update_draft(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, changes: InvoiceUpdate
) -> Invoice:
    """Changes a draft's note or adds more of the patient's charges to it."""
    require_manager(session, actor, action="update", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    require_draft(invoice)
    if "note" in changes.model_fields_set:
        invoice.note = changes.note
    if changes.add_charge_ids:
        _add_lines(invoice, await _claim_charges(session, invoice, changes.add_charge_ids))
    total_invoice(invoice)
    await session.flush()
    _audit(session, actor, "update", invoice)
    return invoice


async def update_line(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, line_id: uuid.UUID, changes: LineUpdate
) -> Invoice:
    """Sets a draft line's discount or quantity; the discount may not exceed the line's amount."""
    require_manager(session, actor, action="update", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    require_draft(invoice)
    line = _line(invoice, line_id)
    quantity = changes.quantity or line.quantity
    discount = line.discount_minor if changes.discount_minor is None else changes.discount_minor
    if discount > quantity * line.unit_price_minor:
        raise InvalidInput(
            f"The discount ({format_money(discount, invoice.currency)}) exceeds the line's amount "
            f"({format_money(quantity * line.unit_price_minor, invoice.currency)})."
        )
    line.quantity, line.discount_minor = quantity, discount
    total_invoice(invoice)
    await session.flush()
    _audit(session, actor, "update", invoice, line_id=str(line_id))
    return invoice


async def remove_line(
    *, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, line_id: uuid.UUID
) -> Invoice:
    """Takes a line off a draft; its charge becomes uninvoiced again."""
    require_manager(session, actor, action="update", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    require_draft(invoice)
    line = _line(invoice, line_id)
    if line.charge_item_id is not None:
        charge = await session.get(ChargeItem, line.charge_item_id)
        if charge is not None:
            charge.invoice_id = None
    invoice.lines.remove(line)
    total_invoice(invoice)
    await session.flush()
    _audit(session, actor, "update", invoice, removed_line_id=str(line_id))
    return invoice


async def delete_draft(*, session: AsyncSession, actor: Principal, invoice_id: uuid.UUID) -> None:
    """Discards a draft (it has no number yet); its charges become uninvoiced again."""
    require_manager(session, actor, action="delete", resource_type=RESOURCE, resource_id=invoice_id)
    invoice = await lock_invoice(session, invoice_id)
    require_draft(invoice)
    for charge in await session.scalars(select(ChargeItem).where(ChargeItem.invoice_id == invoice.id)):
        charge.invoice_id = None
    await session.flush()
    await session.delete(invoice)
    await session.flush()
    _audit(session, actor, "delete", invoice)


async def _claim_charges(
    session: AsyncSession, invoice: Invoice, charge_ids: list[uuid.UUID] | None
) -> list[ChargeItem]:
    """Locks the charges and marks them as on this invoice; refuses ones invoiced or not the patient's."""
    query = select(ChargeItem).with_for_update().order_by(ChargeItem.service_date, ChargeItem.created_at)
    if charge_ids is None:
        query = query.where(ChargeItem.patient_id == invoice.patient_id, ChargeItem.invoice_id.is_(None))
    else:
        query = query.where(ChargeItem.id.in_(set(charge_ids)))
    charges = list(await session.scalars(query))
    if charge_ids is not None and len(charges) != len(set(charge_ids)):
        raise InvalidInput("Some of the charges named do not exist.")
    # A charge on a claim the payer has not settled is not the patient's to pay yet: the payer's
    # adjudication bills the patient's share. Left off a whole-patient draft, refused when named.
    held = await held_charge_ids(session, patient_id=invoice.patient_id)
    if charge_ids is None:
        charges = [charge for charge in charges if charge.id not in held]
    for charge in charges:
        if charge.id in held:
            raise AlreadyInvoiced(f"Charge {charge.id} ({charge.code}) is on a claim awaiting the payer.")
        if charge.patient_id != invoice.patient_id:
            raise InvalidInput(f"Charge {charge.id} belongs to another patient.")
        if charge.invoice_id is not None:
            raise AlreadyInvoiced(f"Charge {charge.id} ({charge.code}) is already on an invoice.")
        if charge.currency != invoice.currency:
            raise CurrencyMismatch(
                f"Charge {charge.id} is in {charge.currency}; the invoice is in {invoice.currency}."
            )
        charge.invoice_id = invoice.id
    return charges


def _add_lines(invoice: Invoice, charges: list[ChargeItem]) -> None:
    position = max((line.position for line in invoice.lines), default=0)
    for charge in charges:
        position += 1
        invoice.lines.append(
            InvoiceLine(
                position=position,
                charge_item_id=charge.id,
                code=charge.code,
                description=charge.description,
                service_date=charge.service_date,
                quantity=charge.quantity,
                unit_price_minor=charge.unit_price_minor,
                discount_minor=0,
                tax_rate_bp=charge.tax_rate_bp,
                tax_minor=0,
                total_minor=0,
            )
        )


def _line(invoice: Invoice, line_id: uuid.UUID) -> InvoiceLine:
    for line in invoice.lines:
        if line.id == line_id:
            return line
    raise not_found("invoice line", line_id)
