"""A small ledger for the report tests, with the figures a person works out by hand.

Everything sits in one year (chosen per test, so tests on one database do not see each other's
rows in the revenue report) and under one patient (the ageing report is asked for that patient).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing.charges.models import ChargeItem, ChargeSource
from billing.fees.models import BillableService, ServiceKind
from billing.insurance.models import Claim, ClaimLine, Coverage, Payer
from billing.insurance.terms import ClaimStatus, CoverageRelationship, CoverageStatus
from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from clinical.organisation.models import Practitioner
from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.identity.models import User
from core.principal import SYSTEM, Role

# (status, issued, due, code, total, paid) for each invoice; dates as (month, day) of the year.
INVOICES = [
    (InvoiceStatus.ISSUED, (6, 1), (7, 1), "99213", 10000, 0),  # not yet due: current
    (InvoiceStatus.PARTIALLY_PAID, (5, 15), (6, 29), "99213", 5000, 2000),  # 1 day past due
    (InvoiceStatus.ISSUED, (5, 1), (5, 31), "36415", 7000, 0),  # 30 days
    (InvoiceStatus.ISSUED, (4, 30), (5, 30), "99213", 4000, 0),  # 31 days
    (InvoiceStatus.ISSUED, (3, 2), (4, 1), "36415", 2500, 0),  # 90 days
    (InvoiceStatus.ISSUED, (3, 1), (3, 31), "99213", 1000, 0),  # 91 days
    (InvoiceStatus.PAID, (2, 10), (3, 12), "99214", 3000, 3000),  # settled: no balance
    (InvoiceStatus.VOID, (2, 11), (3, 13), "99215", 9999, 0),  # void: neither owed nor revenue
    (InvoiceStatus.ISSUED, (7, 2), (8, 1), "99213", 500, 0),  # issued after the ageing date
]
AS_OF = (6, 30)


@dataclass(frozen=True)
class Ledger:
    year: int
    patient_id: uuid.UUID
    payer_id: uuid.UUID
    payer_name: str

    @property
    def as_of(self) -> date:
        return date(self.year, *AS_OF)


def _at(year: int, month_day: tuple[int, int], hour: int = 0, minute: int = 30) -> datetime:
    return datetime(year, *month_day, hour, minute, tzinfo=UTC)


async def _people(session: AsyncSession) -> tuple[User, uuid.UUID, Practitioner]:
    token = secrets.token_hex(4)
    clerk = User(
        email=f"ledger-{token}@example.org", full_name="Ledger Clerk", role=Role.BILLING, password_hash="!"
    )
    practitioner = Practitioner(given_name="Lee", family_name=f"Ledger-{token}")
    session.add_all([clerk, practitioner])
    data = PatientCreate(given_name="Lena", family_name=f"Ledger-{token}", birth_date=date(1970, 1, 2))
    patient = await patients.create_patient(session=session, actor=SYSTEM, data=data)
    await session.flush()
    return clerk, patient.id, practitioner


def _invoices(year: int, patient_id: uuid.UUID, clerk: User) -> list[Invoice]:
    rows = []
    for index, (status, issued, due, code, total, paid) in enumerate(INVOICES):
        rows.append(
            Invoice(
                patient_id=patient_id,
                status=status,
                number=f"T{year}-{secrets.token_hex(4)}-{index}",
                currency="USD",
                subtotal_minor=total,
                total_minor=total,
                paid_minor=paid,
                issued_at=_at(year, issued),
                due_date=date(year, *due),
                created_by=clerk.id,
                lines=[
                    InvoiceLine(
                        position=1,
                        code=code,
                        description=f"Service {code}",
                        quantity=1,
                        unit_price_minor=total,
                        tax_rate_bp=0,
                        tax_minor=0,
                        total_minor=total,
                    )
                ],
            )
        )
    # A draft counts nowhere: not owed yet, not revenue.
    rows.append(
        Invoice(patient_id=patient_id, status=InvoiceStatus.DRAFT, currency="USD", created_by=clerk.id)
    )
    return rows


async def build_ledger(session: AsyncSession, year: int) -> Ledger:
    """The invoices above, and four claims to one payer: three open, one adjudicated."""
    clerk, patient_id, practitioner = await _people(session)
    session.add_all(_invoices(year, patient_id, clerk))
    payer = Payer(name=f"Report Payer {secrets.token_hex(3)}", electronic_id=f"RP{secrets.token_hex(4)}")
    service = BillableService(
        code=f"R-{secrets.token_hex(6)}", kind=ServiceKind.PROCEDURE, display="Report test"
    )
    start = _at(year, (1, 5), 9)
    encounter = Encounter(
        patient_id=patient_id,
        practitioner_id=practitioner.id,
        encounter_class=EncounterClass.AMBULATORY,
        status=EncounterStatus.FINISHED,
        started_at=start,
        ended_at=start + timedelta(minutes=15),
        created_by=clerk.id,
    )
    session.add_all([payer, service, encounter])
    await session.flush()
    charge = ChargeItem(
        patient_id=patient_id,
        encounter_id=encounter.id,
        service_id=service.id,
        source_type=ChargeSource.MANUAL,
        source_key=str(uuid.uuid4()),
        code="99213",
        description="Visit",
        service_date=start.date(),
        quantity=1,
        unit_price_minor=1,
        currency="USD",
        tax_rate_bp=0,
        created_by=clerk.id,
    )
    session.add(charge)
    # (status, submitted, adjudicated, total, [(code, charge, paid)])
    claims = [
        (ClaimStatus.SUBMITTED, _at(year, (6, 30), 10), None, 8000, [("99213", 8000, 0)]),  # current
        (ClaimStatus.ACCEPTED, _at(year, (6, 29), 23), None, 6000, [("99213", 6000, 0)]),  # 1-30
        (ClaimStatus.SUBMITTED, _at(year, (3, 1), 12), None, 3000, [("99213", 3000, 0)]),  # 90+
        (
            ClaimStatus.PARTIALLY_PAID,
            _at(year, (5, 20), 12),
            _at(year, (6, 15), 12),
            14000,
            [("99213", 10000, 9000), ("36415", 2000, 1000), ("99000", 2000, 0)],
        ),
    ]
    for number, (status, submitted, adjudicated, total, lines) in enumerate(claims):
        coverage = Coverage(
            patient_id=patient_id,
            payer_id=payer.id,
            member_id="M1",
            plan_name="Plan",
            priority=1,
            period_start=date(year, 1, 1),
            relationship=CoverageRelationship.SELF,
            status=CoverageStatus.ACTIVE,
            created_by=clerk.id,
        )
        session.add(coverage)
        await session.flush()
        paid = sum(line[2] for line in lines)
        session.add(
            Claim(
                number=f"R{secrets.token_hex(6)}{number}",
                patient_id=patient_id,
                encounter_id=encounter.id,
                coverage_id=coverage.id,
                payer_id=payer.id,
                status=status,
                currency="USD",
                place_of_service="11",
                total_minor=total,
                allowed_minor=paid,
                paid_minor=paid,
                control_number=secrets.randbelow(10**9),
                submitted_at=submitted,
                adjudicated_at=adjudicated,
                created_by=clerk.id,
                lines=[
                    ClaimLine(
                        number=index,
                        charge_item_id=charge.id,
                        code=code,
                        description=code,
                        service_date=start.date(),
                        quantity=1,
                        charge_minor=amount,
                        diagnosis_pointers="1",
                        allowed_minor=line_paid,
                        paid_minor=line_paid,
                    )
                    for index, (code, amount, line_paid) in enumerate(lines, start=1)
                ],
            )
        )
    await session.flush()
    return Ledger(year=year, patient_id=patient_id, payer_id=payer.id, payer_name=payer.name)


EXPECTED_PATIENT_AGEING = {
    "currency": "USD",
    "current": 10000,
    "days_1_30": 3000 + 7000,
    "days_31_60": 4000,
    "days_61_90": 2500,
    "days_over_90": 1000,
    "total": 27500,
    "count": 6,
}
EXPECTED_PAYER_AGEING = {
    "currency": "USD",
    "current": 8000,
    "days_1_30": 6000,
    "days_31_60": 0,
    "days_61_90": 0,
    "days_over_90": 3000,
    "total": 17000,
    "count": 3,
}


def expected_revenue_rows(ledger: Ledger) -> list[tuple[str, str, str, int]]:
    """(period, payer name, service, amount) by month, self-pay first within a period."""
    y, payer, self_pay = ledger.year, ledger.payer_name, "Patients (self-pay)"
    return [
        (f"{y}-02", self_pay, "99214", 3000),
        (f"{y}-03", self_pay, "36415", 2500),
        (f"{y}-03", self_pay, "99213", 1000),
        (f"{y}-04", self_pay, "99213", 4000),
        (f"{y}-05", self_pay, "36415", 7000),
        (f"{y}-05", self_pay, "99213", 5000),
        (f"{y}-06", self_pay, "99213", 10000),
        (f"{y}-06", payer, "36415", 1000),
        (f"{y}-06", payer, "99213", 9000),
        (f"{y}-07", self_pay, "99213", 500),
    ]
