"""Filing results against an order: shared by manual entry and HL7 intake.

Filing happens in two steps so that a submission is all or nothing: `plan_results` checks every
result against the order and the test's current result, without writing; `write_plan` then
supersedes the current results, adds the new ones and moves the order's status on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import lifecycle
from clinical.lab.exceptions import ResultRefused
from clinical.lab.models import LabOrder, LabOrderItem, LabResult
from clinical.lab.terms import AbnormalFlag, OrderStatus, ResultStatus, ValueType
from clinical.lab.units import Unit
from core import audit, outbox
from core.principal import Principal


@dataclass(frozen=True, slots=True)
class NewResult:
    """A result to file, whatever its source."""

    loinc_code: str
    value_type: ValueType
    value: str
    value_numeric: Decimal | None
    comparator: str | None
    unit: Unit | None
    reference_low: Decimal | None
    reference_high: Decimal | None
    reference_text: str | None
    abnormal_flag: AbnormalFlag | None
    status: ResultStatus
    observed_at: datetime | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    order: LabOrder
    filings: list[tuple[LabOrderItem, NewResult, LabResult | None]]  # item, new result, the one it replaces


async def current_results(session: AsyncSession, order_id: uuid.UUID) -> dict[uuid.UUID, LabResult]:
    """The order's current (not superseded) results, by order item."""
    rows = await session.scalars(
        select(LabResult).where(LabResult.order_id == order_id, LabResult.superseded_at.is_(None))
    )
    return {row.order_item_id: row for row in rows}


async def plan_results(session: AsyncSession, order: LabOrder, results: list[NewResult]) -> Plan:
    """Checks `results` against the order; ResultRefused (nothing written) if any does not fit."""
    lifecycle.check_accepts_results(order)
    items = {item.loinc_code: item for item in order.items}
    current = await current_results(session, order.id)
    filings: list[tuple[LabOrderItem, NewResult, LabResult | None]] = []
    seen: set[uuid.UUID] = set()
    for result in results:
        item = items.get(result.loinc_code)
        if item is None:
            raise ResultRefused(
                f"Test {result.loinc_code} is not on order {order.placer_order_number}; "
                f"it has {', '.join(sorted(items))}."
            )
        if item.id in seen:
            raise ResultRefused(f"Test {result.loinc_code} is reported twice in one submission.")
        seen.add(item.id)
        earlier = current.get(item.id)
        problem = lifecycle.replacement_problem(earlier.status if earlier else None, result.status)
        if problem:
            raise ResultRefused(f"Test {result.loinc_code} on order {order.placer_order_number}: {problem}.")
        filings.append((item, result, earlier))
    return Plan(order, filings)


async def write_plan(
    session: AsyncSession,
    plan: Plan,
    *,
    actor: Principal,
    now: datetime,
    source_message_id: uuid.UUID | None = None,
) -> list[LabResult]:
    """Files a checked plan: supersedes, inserts, moves the order's status on, audits each result."""
    order = plan.order
    for _, _, earlier in plan.filings:
        if earlier is not None:
            earlier.superseded_at = now
    # The superseded rows must leave the "one current result per test" index before the new ones arrive.
    await session.flush()
    rows = [
        LabResult(
            order_item_id=item.id,
            order_id=order.id,
            patient_id=order.patient_id,
            loinc_code=item.loinc_code,
            value_type=new.value_type,
            value=new.value,
            value_numeric=new.value_numeric,
            comparator=new.comparator,
            unit=new.unit.text[:32] if new.unit else None,
            unit_code=new.unit.ucum if new.unit else None,
            note=new.note,
            reference_low=new.reference_low,
            reference_high=new.reference_high,
            reference_text=new.reference_text,
            abnormal_flag=new.abnormal_flag,
            status=new.status,
            observed_at=new.observed_at,
            source_message_id=source_message_id,
            entered_by=None if source_message_id else actor.user_id,
        )
        for item, new, _ in plan.filings
    ]
    session.add_all(rows)
    await session.flush()
    current = await current_results(session, order.id)
    all_released = all(item.id in current and current[item.id].status.is_released for item in order.items)
    corrected_now = any(new.status is ResultStatus.CORRECTED for _, new, _ in plan.filings)
    previous = order.status
    target = lifecycle.status_from_results(previous, all_released=all_released, corrected_now=corrected_now)
    lifecycle.apply_status(order, target, now)
    if target in (OrderStatus.FINAL, OrderStatus.CORRECTED) and (target is not previous or corrected_now):
        outbox.record(
            session,
            event_type=outbox.EventType.LAB_RESULT_READY,
            order_id=order.id,
            patient_id=order.patient_id,
        )
    order.updated_at = now
    await session.flush()
    for row in rows:
        audit.record(
            session,
            actor=actor,
            action="create",
            resource_type="lab_result",
            resource_id=row.id,
            patient_id=order.patient_id,
            detail={
                "order_id": str(order.id),
                "loinc_code": row.loinc_code,
                "status": row.status.value,
                "source": "hl7" if source_message_id else "manual",
                "order_status": f"{previous.value}->{target.value}",
            },
        )
    return rows
