"""The demo's billing office: a fee schedule, the finished visits charged, invoices in every state,
and an insurer with coverages and claims, all made by the demo billing clerk through the services.

Two recent visits are left uncharged and one patient's charges uninvoiced, so the office's worklists
have something on them. Amounts are in the organisation's currency (`OWNAT_CURRENCY`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from billing import adjudication, charges, fees, insurance, invoices, payments
from billing.charges import EncounterCharges
from billing.fees import PriceCreate, ServiceCreate, ServiceKind
from billing.insurance import (
    Adjudication,
    Claim,
    ClaimCreate,
    ClaimResponse,
    CoverageCreate,
    LineAdjudication,
    PayerCreate,
)
from billing.invoices import InvoiceCreate
from billing.payments import PaymentCreate, PaymentMethod
from clinical.encounters import Encounter, EncounterStatus
from clinical.lab import CATALOGUE_TESTS
from core.identity import User
from core.principal import Principal, Role
from core.settings import Settings
from ownat.demo.accounts import account
from ownat.demo.context import Seeding

# (code, description, lowest minutes, minutes it stays under, price in minor units): the consultation
# priced is the band its duration falls in (a video call of 12 minutes, a clinic visit of 17).
CONSULTATIONS = (
    ("99212", "Consultation, up to 15 minutes", 0, 15, 4_500),
    ("99213", "Consultation, 15 to 30 minutes", 15, 30, 7_500),
    ("99214", "Consultation, 30 minutes or more", 30, None, 11_000),
)
PROCEDURES = (
    ("36415", "Venepuncture", 800),
    ("93000", "Electrocardiogram, 12 leads", 3_500),
    ("94010", "Spirometry", 6_000),
)
LAB_PRICE = 1_500
PRICES_FROM_DAYS_AGO = 730
PAYER = PayerCreate(name="Northwind Health Insurance", electronic_id="NWH01")


@dataclass(frozen=True, slots=True)
class Office:
    seeding: Seeding
    settings: Settings
    clerk: Principal

    def patient(self, key: str) -> uuid.UUID:
        return self.seeding.patients[key]


# Who ends up where (demo plan keys): visits still to charge, invoices by status, insured patients.
UNCHARGED = ("schmidt", "martin")
INVOICED = {"adeyemi": "paid", "jensen": "partially_paid", "perez": "issued", "nair": "draft"}
INSURED = {"khalil": "partially_paid", "yilmaz": "submitted", "sato": "draft"}


async def seed_billing(seeding: Seeding, settings: Settings) -> None:
    """The fee schedule, charges, invoices, payments, the insurer, coverages and claims."""
    clerk = await seeding.session.scalar(select(User).where(User.email == account(Role.BILLING).email))
    assert clerk is not None, "the demo billing account is created with the others"
    office = Office(seeding=seeding, settings=settings, clerk=clerk.as_principal())
    await _fee_schedule(office)
    uncharged = {office.patient(key) for key in UNCHARGED}
    for encounter in await _finished_encounters(office):
        if encounter.patient_id not in uncharged:
            await charges.charge_encounter(
                session=seeding.session,
                actor=office.clerk,
                settings=settings,
                encounter_id=encounter.id,
                request=EncounterCharges(),
            )
    for key, status in INVOICED.items():
        await _invoice(office, office.patient(key), status)
    await _insurance(office)


async def _fee_schedule(office: Office) -> None:
    valid_from = office.seeding.timeline.today - timedelta(days=PRICES_FROM_DAYS_AGO)
    entries: list[tuple[ServiceCreate, int]] = [
        (
            ServiceCreate(
                code=code,
                kind=ServiceKind.CONSULTATION,
                display=display,
                min_duration_min=low,
                max_duration_min=high,
            ),
            price,
        )
        for code, display, low, high, price in CONSULTATIONS
    ]
    entries += [
        (ServiceCreate(code=code, kind=ServiceKind.PROCEDURE, display=display), price)
        for code, display, price in PROCEDURES
    ]
    entries += [
        (
            ServiceCreate(
                code=f"LAB-{test.loinc_code}",
                kind=ServiceKind.LAB_TEST,
                display=test.display,
                loinc_code=test.loinc_code,
            ),
            LAB_PRICE,
        )
        for test in CATALOGUE_TESTS
    ]
    session, currency = office.seeding.session, office.settings.currency
    for new, amount in entries:
        service = await fees.create_service(session=session, actor=office.clerk, new=new)
        price = PriceCreate(amount_minor=amount, currency=currency, valid_from=valid_from)
        await fees.add_price(
            session=session, actor=office.clerk, service_id=service.id, new=price, currency=currency
        )


async def _finished_encounters(office: Office) -> list[Encounter]:
    rows = await office.seeding.session.scalars(
        select(Encounter).where(Encounter.status == EncounterStatus.FINISHED).order_by(Encounter.started_at)
    )
    return list(rows)


async def _invoice(office: Office, patient_id: uuid.UUID, status: str) -> None:
    session, clerk = office.seeding.session, office.clerk
    draft = await invoices.create_draft(
        session=session,
        actor=clerk,
        new=InvoiceCreate(patient_id=patient_id),
        currency=office.settings.currency,
    )
    if status == "draft":
        return
    invoice = await invoices.issue_invoice(
        session=session,
        actor=clerk,
        invoice_id=draft.id,
        payment_terms_days=office.settings.billing_payment_terms_days,
    )
    if status == "issued":
        return
    paid = invoice.total_minor if status == "paid" else invoice.total_minor // 2
    method = PaymentMethod.BANK_TRANSFER if status == "paid" else PaymentMethod.CASH
    await payments.record_offline_payment(
        session=session,
        actor=clerk,
        invoice_id=invoice.id,
        new=PaymentCreate(
            method=method,
            amount_minor=paid,
            currency=invoice.currency,
            reference=f"DEMO-{invoice.number}",
        ),
        key=f"demo-{invoice.id}",
    )


async def _insurance(office: Office) -> None:
    session, clerk = office.seeding.session, office.clerk
    payer = await insurance.create_payer(session=session, actor=clerk, payer=PAYER)
    today = office.seeding.timeline.today
    encounters = {e.patient_id: e for e in await _finished_encounters(office)}
    for number, (key, status) in enumerate(INSURED.items(), start=1):
        patient_id = office.patient(key)
        coverage = await insurance.add_coverage(
            session=session,
            actor=clerk,
            patient_id=patient_id,
            coverage=CoverageCreate(
                payer_id=payer.id,
                member_id=f"NWH-{4100 + number}",
                group_number="LDN-CLINICS",
                plan_name="Northwind Gold",
                period_start=today - timedelta(days=PRICES_FROM_DAYS_AGO),
                period_end=date(today.year + 1, 12, 31),
            ),
        )
        claim = await insurance.create_claim(
            session=session,
            actor=clerk,
            new=ClaimCreate(encounter_id=encounters[patient_id].id, coverage_id=coverage.id),
        )
        if status == "draft":
            continue
        await insurance.submit_claim(session=session, actor=clerk, claim_id=claim.id)
        if status == "submitted":
            continue
        await insurance.record_response(
            session=session, actor=clerk, claim_id=claim.id, response=ClaimResponse(accepted=True)
        )
        await adjudication.adjudicate(
            session=session, actor=clerk, claim_id=claim.id, adjudication=_partial_payment(claim)
        )


def _partial_payment(claim: Claim) -> Adjudication:
    """The payer allows 80 % of each line and leaves a fifth of that to the patient."""
    lines = []
    for line in claim.lines:
        allowed = line.charge_minor * 8 // 10
        share = allowed // 5
        lines.append(
            LineAdjudication(
                line_id=line.id,
                allowed_minor=allowed,
                paid_minor=allowed - share,
                patient_responsibility_minor=share,
                adjustment_reason="CO45",
            )
        )
    return Adjudication(lines=lines, payer_claim_number="NWH-2026-0001")
