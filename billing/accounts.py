"""Patients as the billing office finds them: name, MRN and birth date with what they have open to bill.

Billing clerks see no clinical records, but they bill people: they look patients up by name, MRN or
birth date, and without criteria they get the patients with something to do (charges not yet on an
invoice, or an unpaid balance). Managers only; every patient returned is audited.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.charges import ChargeItem
from billing.insurance import AWAITING_PAYER, Claim, ClaimLine
from billing.invoices import Invoice, InvoiceStatus
from clinical.patients import Patient, PatientQuery, patients_matching
from core import audit
from core.principal import Principal

RESOURCE = "billing_account"
MAX_ACCOUNTS = 50
OPEN_INVOICES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)


class BillingAccount(BaseModel):
    patient_id: uuid.UUID
    name: str
    mrn: str
    birth_date: date | None
    # Charges not on an invoice, split into those the patient can be invoiced for and those held by
    # a claim awaiting its payer; amounts before tax (it is computed per invoice line).
    open_charges: int
    open_charges_minor: int
    held_charges: int
    held_charge_ids: list[uuid.UUID]
    # What issued and partly paid invoices still ask of the patient.
    open_invoices: int
    balance_minor: int
    currency: str  # the organisation's: every amount here is in it


async def find_accounts(
    *, session: AsyncSession, actor: Principal, query: PatientQuery, currency: str, limit: int = 20
) -> list[BillingAccount]:
    """Patients matching `query` (or, with no criteria, those with something open), by name."""
    require_manager(session, actor, action="search", resource_type=RESOURCE)
    limit = max(1, min(limit, MAX_ACCOUNTS))
    statement = patients_matching(query)
    if not (query.name or query.birth_date or query.identifier):
        statement = statement.where(
            or_(Patient.id.in_(_with_open_charges()), Patient.id.in_(_with_balance()))
        )
    statement = statement.order_by(Patient.family_name_key, Patient.given_name_key, Patient.id).limit(limit)
    patients = list(await session.scalars(statement))
    ids = [p.id for p in patients]
    charges = await _open_charges(session, ids)
    held = await _held(session, ids)
    balances = await _balances(session, ids)
    for patient in patients:
        audit.record(
            session,
            actor=actor,
            action="read",
            resource_type=RESOURCE,
            resource_id=patient.id,
            patient_id=patient.id,
        )
    return [_account(p, charges, held, balances, currency) for p in patients]


def _with_open_charges() -> Select[Any]:
    return select(ChargeItem.patient_id).where(ChargeItem.invoice_id.is_(None))


def _with_balance() -> Select[Any]:
    return select(Invoice.patient_id).where(Invoice.status.in_(OPEN_INVOICES))


async def _open_charges(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, int]]]:
    rows = await session.execute(
        select(ChargeItem.patient_id, ChargeItem.id, ChargeItem.quantity * ChargeItem.unit_price_minor).where(
            ChargeItem.patient_id.in_(ids), ChargeItem.invoice_id.is_(None)
        )
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
    for patient_id, charge_id, amount in rows:
        found.setdefault(patient_id, []).append((charge_id, int(amount)))
    return found


async def _held(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(ClaimLine.charge_item_id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(Claim.patient_id.in_(ids), Claim.status.in_(AWAITING_PAYER))
    )
    return set(rows)


async def _balances(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    rows = await session.execute(
        select(Invoice.patient_id, func.count(), func.sum(Invoice.total_minor - Invoice.paid_minor))
        .where(Invoice.patient_id.in_(ids), Invoice.status.in_(OPEN_INVOICES))
        .group_by(Invoice.patient_id)
    )
    return {patient_id: (int(count), int(balance or 0)) for patient_id, count, balance in rows}


def _account(
    patient: Patient,
    charges: dict[uuid.UUID, list[tuple[uuid.UUID, int]]],
    held: set[uuid.UUID],
    balances: dict[uuid.UUID, tuple[int, int]],
    currency: str,
) -> BillingAccount:
    mine = charges.get(patient.id, [])
    billable = [amount for charge_id, amount in mine if charge_id not in held]
    held_here = [charge_id for charge_id, _ in mine if charge_id in held]
    open_invoices, balance = balances.get(patient.id, (0, 0))
    return BillingAccount(
        patient_id=patient.id,
        name=patient.display_name,
        mrn=patient.mrn,
        birth_date=patient.birth_date,
        open_charges=len(billable),
        open_charges_minor=sum(billable),
        held_charges=len(held_here),
        held_charge_ids=held_here,
        open_invoices=open_invoices,
        balance_minor=balance,
        currency=currency,
    )
