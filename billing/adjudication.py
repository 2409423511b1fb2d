"""Recording the payer's adjudication, and moving what it leaves to the patient onto an invoice.

Per line the payer allows at most the charge, pays at most what it allows, and leaves the patient a
share; the rest (charge less paid less patient share) is the contractual adjustment, written off.
The patient's share becomes a draft invoice of its own, one line per claimed service, which billing
staff review and issue like any other; its charges count as invoiced from then on.

It sits above `billing.insurance` and `billing.invoices` because it changes both: invoicing asks
insurance which charges a claim still holds, so insurance must not depend on invoices.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges import ChargeItem
from billing.insurance import (
    ADJUDICABLE,
    Adjudication,
    Claim,
    ClaimLine,
    ClaimStateConflict,
    ClaimStatus,
    LineAdjudication,
    Payer,
    audit_claim,
    load_claim,
)
from billing.invoices import Invoice, InvoiceLine, InvoiceStatus
from core.db import utc_now
from core.errors import Conflict, InvalidInput
from core.principal import Principal


def _check_line(line: ClaimLine, entry: LineAdjudication) -> None:
    if entry.allowed_minor > line.charge_minor:
        raise InvalidInput(
            f"Line {line.number}: the allowed amount exceeds the charge of {line.charge_minor}."
        )
    if entry.paid_minor > entry.allowed_minor:
        raise InvalidInput(f"Line {line.number}: the payer cannot pay more than it allows.")
    if entry.paid_minor + entry.patient_responsibility_minor > line.charge_minor:
        raise InvalidInput(f"Line {line.number}: paid plus patient responsibility exceeds the charge.")


def _apply(claim: Claim, adjudication: Adjudication) -> None:
    by_id = {line.id: line for line in claim.lines}
    entries = {entry.line_id: entry for entry in adjudication.lines}
    if len(entries) != len(adjudication.lines) or set(entries) != set(by_id):
        raise InvalidInput("Give exactly one adjudication entry for each line of the claim.")
    for line_id, entry in entries.items():
        line = by_id[line_id]
        _check_line(line, entry)
        line.allowed_minor, line.paid_minor = entry.allowed_minor, entry.paid_minor
        line.patient_responsibility_minor = entry.patient_responsibility_minor
        line.adjustment_reason = entry.adjustment_reason
    claim.allowed_minor = sum(line.allowed_minor for line in claim.lines)
    claim.paid_minor = sum(line.paid_minor for line in claim.lines)
    claim.patient_responsibility_minor = sum(line.patient_responsibility_minor for line in claim.lines)
    if claim.paid_minor == 0:
        claim.status = ClaimStatus.DENIED
    elif claim.patient_responsibility_minor == 0 and claim.paid_minor == claim.allowed_minor:
        claim.status = ClaimStatus.PAID
    else:
        claim.status = ClaimStatus.PARTIALLY_PAID


async def _bill_patient(session: AsyncSession, actor: Principal, claim: Claim) -> Invoice:
    """A draft invoice of the patient's share of each claimed service."""
    charge_ids = [line.charge_item_id for line in claim.lines]
    charges = {
        charge.id: charge
        for charge in await session.scalars(
            select(ChargeItem).where(ChargeItem.id.in_(charge_ids)).with_for_update()
        )
    }
    if any(charge.invoice_id is not None for charge in charges.values()):
        raise Conflict(
            "A charge of this claim has since been invoiced to the patient; void that invoice first."
        )
    payer = await session.get(Payer, claim.payer_id)
    payer_name = payer.name if payer else "the payer"
    invoice = Invoice(
        id=uuid.uuid4(),
        patient_id=claim.patient_id,
        status=InvoiceStatus.DRAFT,
        currency=claim.currency,
        subtotal_minor=claim.patient_responsibility_minor,
        discount_minor=0,
        tax_minor=0,
        total_minor=claim.patient_responsibility_minor,
        note=f"Your share after {payer_name} settled claim {claim.number}."[:1000],
        created_by=actor.user_id,
        lines=[
            InvoiceLine(
                position=line.number,
                charge_item_id=line.charge_item_id,
                code=line.code,
                description=f"{line.description} (patient share)"[:255],
                service_date=line.service_date,
                quantity=1,
                unit_price_minor=line.patient_responsibility_minor,
                discount_minor=0,
                tax_rate_bp=0,
                tax_minor=0,
                total_minor=line.patient_responsibility_minor,
            )
            for line in claim.lines
        ],
    )
    session.add(invoice)
    await session.flush()
    for charge in charges.values():
        charge.invoice_id = invoice.id
    return invoice


async def adjudicate(
    *, session: AsyncSession, actor: Principal, claim_id: uuid.UUID, adjudication: Adjudication
) -> Claim:
    """Records the payer's answer per line and bills the patient's share; the claim is then settled."""
    claim = await load_claim(session, actor, claim_id, action="adjudicate", for_update=True)
    if claim.status not in ADJUDICABLE:
        raise ClaimStateConflict(
            f"Only a submitted or accepted claim can be adjudicated; this one is {claim.status.value}."
        )
    _apply(claim, adjudication)
    claim.adjudicated_at = utc_now()
    claim.responded_at = claim.responded_at or claim.adjudicated_at
    claim.payer_claim_number = adjudication.payer_claim_number or claim.payer_claim_number
    if claim.patient_responsibility_minor > 0:
        claim.patient_invoice_id = (await _bill_patient(session, actor, claim)).id
    await session.flush()
    audit_claim(
        session,
        actor,
        "adjudicate",
        claim,
        paid_minor=claim.paid_minor,
        patient_responsibility_minor=claim.patient_responsibility_minor,
        invoice_id=str(claim.patient_invoice_id) if claim.patient_invoice_id else None,
    )
    return claim
