"""Revenue by period, payer and service: what each party was billed for and owes, net of write-offs.

Two sources, added up in one SQL query: the lines of patients' invoices once issued (void ones
excluded), attributed to the patients themselves at the issue time; and what payers paid on
adjudicated claims, attributed to the payer at the adjudication time. A patient's share after
insurance is an invoice line, so nothing is counted twice; contractual adjustments are not revenue.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time

from sqlalchemy import String, Uuid, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from billing.insurance import Claim, ClaimLine, Payer
from billing.invoices import Invoice, InvoiceLine, InvoiceStatus
from billing.reports.periods import period_label
from billing.reports.schemas import Granularity, RevenueReport, RevenueRow, RevenueTotal

SELF_PAY = "Patients (self-pay)"
BILLED = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
MAX_DAYS = 3660  # ten years per request keeps the answer a sensible size


def _sources(
    dialect: str, granularity: Granularity, start: datetime, end: datetime, payer_id: uuid.UUID | None
):
    patients = (
        select(
            period_label(Invoice.issued_at, granularity, dialect).label("period"),
            cast(null(), Uuid()).label("payer_id"),
            InvoiceLine.code.label("service_code"),
            Invoice.currency.label("currency"),
            InvoiceLine.total_minor.label("amount_minor"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status.in_(BILLED), Invoice.issued_at >= start, Invoice.issued_at < end)
    )
    payers = (
        select(
            period_label(Claim.adjudicated_at, granularity, dialect).label("period"),
            Claim.payer_id.label("payer_id"),
            ClaimLine.code.label("service_code"),
            Claim.currency.label("currency"),
            ClaimLine.paid_minor.label("amount_minor"),
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(Claim.adjudicated_at >= start, Claim.adjudicated_at < end, ClaimLine.paid_minor > 0)
    )
    if payer_id is not None:
        # One payer's revenue: the patients' side is left out.
        patients = patients.where(literal(False))
        payers = payers.where(Claim.payer_id == payer_id)
    # The payers' select first: a union takes its column types from its first member.
    return union_all(payers, patients).subquery("revenue")


def _totals(rows: list[RevenueRow], key: str) -> list[RevenueTotal]:
    sums: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        sums[(str(getattr(row, key)), row.currency)] += row.amount_minor
    return [RevenueTotal(key=k, currency=c, amount_minor=v) for (k, c), v in sorted(sums.items())]


async def revenue_report(
    *,
    session: AsyncSession,
    start: date,
    end: date,
    granularity: Granularity,
    payer_id: uuid.UUID | None = None,
) -> RevenueReport:
    """Revenue from `start` to `end` (exclusive, UTC days), grouped by period, payer, service and currency."""
    dialect = session.get_bind().dialect.name
    begin, finish = (datetime.combine(day, time(), UTC) for day in (start, end))
    source = _sources(dialect, granularity, begin, finish, payer_id)
    query = (
        select(
            source.c.period,
            source.c.payer_id,
            func.coalesce(Payer.name, literal(SELF_PAY, String)),
            source.c.service_code,
            source.c.currency,
            func.sum(source.c.amount_minor),
        )
        .select_from(source)
        .outerjoin(Payer, Payer.id == source.c.payer_id)
        .group_by(source.c.period, source.c.payer_id, Payer.name, source.c.service_code, source.c.currency)
        .order_by(source.c.period, Payer.name.nulls_first(), source.c.service_code, source.c.currency)
    )
    rows = [
        RevenueRow(
            period=period,
            payer_id=payer,
            payer_name=name,
            service_code=code,
            currency=currency,
            amount_minor=int(amount),
        )
        for period, payer, name, code, currency, amount in await session.execute(query)
    ]
    return RevenueReport(
        start=start,
        end=end,
        granularity=granularity,
        rows=rows,
        by_period=_totals(rows, "period"),
        by_payer=_totals(rows, "payer_name"),
        by_service=_totals(rows, "service_code"),
    )
