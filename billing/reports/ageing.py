"""Accounts-receivable ageing: patients' open balances by due date, payers' open claims by submission.

The buckets are computed in SQL from date bounds worked out here, so the same query runs on
PostgreSQL and SQLite without date arithmetic in SQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.insurance import Claim, ClaimStatus, Payer
from billing.invoices import Invoice, InvoiceStatus
from billing.reports.schemas import AgeingBuckets, AgeingReport, PayerAgeing

OPEN_INVOICES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
OPEN_CLAIMS = (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED)
_FIELDS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")


def _bucket(column: Any, bounds: tuple[Any, Any, Any, Any]) -> Any:
    """Which bucket `column` falls in: not before bounds[0] is current, then 30-day steps back."""
    today, day_30, day_60, day_90 = bounds
    return case(
        (column.is_(None), "current"),
        (column >= today, "current"),
        (column >= day_30, "days_1_30"),
        (column >= day_60, "days_31_60"),
        (column >= day_90, "days_61_90"),
        else_="days_over_90",
    )


def _fill(target: AgeingBuckets, bucket: str, amount: int, count: int) -> None:
    setattr(target, bucket, getattr(target, bucket) + amount)
    target.total += amount
    target.count += count


async def _patient_buckets(
    session: AsyncSession, as_of: date, patient_id: uuid.UUID | None
) -> list[AgeingBuckets]:
    # Past due means the due date has passed: due yesterday is 1 day past due.
    bounds = (as_of, as_of - timedelta(days=30), as_of - timedelta(days=60), as_of - timedelta(days=90))
    bucket = _bucket(Invoice.due_date, bounds).label("bucket")
    balance = Invoice.total_minor - Invoice.paid_minor
    query = (
        select(Invoice.currency, bucket, func.sum(balance), func.count())
        .where(Invoice.status.in_(OPEN_INVOICES), balance > 0)
        .where(Invoice.issued_at < datetime.combine(as_of + timedelta(days=1), time(), UTC))
        .group_by(Invoice.currency, bucket)
    )
    if patient_id is not None:
        query = query.where(Invoice.patient_id == patient_id)
    by_currency: dict[str, AgeingBuckets] = {}
    for currency, name, amount, count in await session.execute(query):
        _fill(by_currency.setdefault(currency, AgeingBuckets(currency=currency)), name, int(amount), count)
    return [by_currency[key] for key in sorted(by_currency)]


async def _payer_buckets(
    session: AsyncSession, as_of: date, patient_id: uuid.UUID | None
) -> list[PayerAgeing]:
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(), UTC)
    # A claim submitted during as_of is current; one submitted the day before is 1 day old.
    bounds = tuple(end_of_day - timedelta(days=days) for days in (1, 31, 61, 91))
    bucket = _bucket(Claim.submitted_at, bounds).label("bucket")  # type: ignore[arg-type]
    query = (
        select(Claim.payer_id, Payer.name, Claim.currency, bucket, func.sum(Claim.total_minor), func.count())
        .join(Payer, Payer.id == Claim.payer_id)
        .where(Claim.status.in_(OPEN_CLAIMS), Claim.submitted_at < end_of_day)
        .group_by(Claim.payer_id, Payer.name, Claim.currency, bucket)
    )
    if patient_id is not None:
        query = query.where(Claim.patient_id == patient_id)
    rows: dict[tuple[uuid.UUID, str], PayerAgeing] = {}
    for payer_id, name, currency, bucket_name, amount, count in await session.execute(query):
        target = rows.setdefault(
            (payer_id, currency), PayerAgeing(payer_id=payer_id, payer_name=name, currency=currency)
        )
        _fill(target, bucket_name, int(amount), count)
    return sorted(rows.values(), key=lambda row: (row.payer_name, row.currency))


async def ageing_report(
    *, session: AsyncSession, as_of: date, patient_id: uuid.UUID | None = None
) -> AgeingReport:
    """Open receivables as they stand, aged as at `as_of` (an invoice's balance is today's balance)."""
    return AgeingReport(
        as_of=as_of,
        patients=await _patient_buckets(session, as_of, patient_id),
        payers=await _payer_buckets(session, as_of, patient_id),
    )
