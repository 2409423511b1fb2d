"""The demo's bills: a small fee schedule and an issued invoice for the demo patient, so that *My bills*
has something to pay (with the test gateway `ownat dev` serves), all through the billing services."""

from __future__ import annotations

from datetime import timedelta

from billing.charges import service as charges
from billing.charges.schemas import ManualCharge
from billing.fees import service as fees
from billing.fees.models import ServiceKind
from billing.fees.schemas import PriceCreate, ServiceCreate
from billing.invoices import drafts, issuing
from billing.invoices.schemas import InvoiceCreate
from core.settings import Settings
from ownat.demo.context import Seeding
from ownat.demo.outpatient_plan import OUTPATIENTS

# (code, what it is, price in minor units, how it is described to the fee schedule)
FEE_SCHEDULE = (
    (
        "VC-30",
        "Video consultation (up to 30 minutes)",
        4_500,
        {"min_duration_min": 0, "max_duration_min": 30},
    ),
    ("LAB-TSH", "Thyroid stimulating hormone (TSH) test", 2_200, {"loinc_code": "3016-3"}),
)
KINDS = {"VC-30": ServiceKind.CONSULTATION, "LAB-TSH": ServiceKind.LAB_TEST}
# The visit and test being billed took place this many days before the demo was loaded.
BILLED_DAYS_AGO = 12


async def bill_demo_patient(seeding: Seeding, settings: Settings) -> None:
    """The fee schedule, and the demo patient's issued invoice of a video visit and a thyroid test."""
    session, admin = seeding.session, seeding.admin
    today = seeding.timeline.now.date()
    for code, display, amount_minor, band in FEE_SCHEDULE:
        service = await fees.create_service(
            session=session,
            actor=admin,
            new=ServiceCreate(code=code, kind=KINDS[code], display=display, **band),
        )
        await fees.add_price(
            session=session,
            actor=admin,
            service_id=service.id,
            currency=settings.currency,
            new=PriceCreate(
                amount_minor=amount_minor, currency=settings.currency, valid_from=today - timedelta(days=365)
            ),
        )
    patient_id = seeding.patients[next(plan.key for plan in OUTPATIENTS if plan.is_demo_account)]
    for code, _, _, _ in FEE_SCHEDULE:
        await charges.create_manual_charge(
            session=session,
            actor=admin,
            settings=settings,
            new=ManualCharge(
                patient_id=patient_id, code=code, service_date=today - timedelta(days=BILLED_DAYS_AGO)
            ),
        )
    draft = await drafts.create_draft(
        session=session, actor=admin, new=InvoiceCreate(patient_id=patient_id), currency=settings.currency
    )
    await issuing.issue_invoice(
        session=session,
        actor=admin,
        invoice_id=draft.id,
        payment_terms_days=settings.billing_payment_terms_days,
    )
