"""Placing lab orders and moving them through their lifecycle."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import catalogue, lifecycle, references
from clinical.lab.exceptions import LabOrderNotFound, UnknownTest
from clinical.lab.models import LabOrder, LabOrderItem
from clinical.lab.schemas import LabOrderCreate, StatusChange
from clinical.lab.terms import OrderStatus
from core import audit
from core.db import utc_now
from core.errors import Conflict, Forbidden, InvalidInput
from core.principal import Principal, Role

# Crockford's base 32 without I, L, O, U: read aloud and typed from labels without mistakes.
_PLACER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PLACER_ATTEMPTS = 5


async def create_order(*, session: AsyncSession, actor: Principal, new: LabOrderCreate) -> LabOrder:
    """Places an order for catalogue tests; the placer order number is generated here."""
    if actor.role is not Role.CLINICIAN:
        raise Forbidden("Only clinicians place lab orders.")
    tests = [catalogue.find(code) for code in new.tests]
    unknown = [code for code, test in zip(new.tests, tests, strict=True) if test is None]
    if unknown:
        raise UnknownTest(f"Not in the lab catalogue: {', '.join(unknown)}.", extra={"unknown": unknown})
    patient = await references.patient(session, new.patient_id)
    if not patient.active or patient.deceased:
        raise InvalidInput(f"Patient {patient.id} is not active; lab tests cannot be ordered.")
    if new.encounter_id is not None:
        await references.encounter_of_patient(session, new.encounter_id, patient.id)
    practitioner = await references.ordering_practitioner(session, actor, new.ordering_practitioner_id)
    order = LabOrder(
        placer_order_number=await _new_placer_number(session),
        patient_id=patient.id,
        encounter_id=new.encounter_id,
        ordering_practitioner_id=practitioner.id,
        ordered_by=actor.user_id,
        priority=new.priority,
        status=OrderStatus.REGISTERED,
        clinical_note=new.clinical_note,
        items=[
            LabOrderItem(
                position=position,
                loinc_code=test.loinc_code,
                display=test.display,
                specimen=test.specimen,
                unit=test.unit,
            )
            for position, test in enumerate(tests, start=1)
            if test is not None
        ],
    )
    session.add(order)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="lab_order",
        resource_id=order.id,
        patient_id=order.patient_id,
        detail={
            "placer_order_number": order.placer_order_number,
            "tests": new.tests,
            "priority": new.priority,
        },
    )
    return order


async def _new_placer_number(session: AsyncSession) -> str:
    # L + yymmdd + 6 random characters: 13 characters, ~10^9 numbers a day, so a clash is rare;
    # the unique constraint still stands behind this check.
    for _ in range(_PLACER_ATTEMPTS):
        suffix = "".join(secrets.choice(_PLACER_ALPHABET) for _ in range(6))
        number = f"L{utc_now():%y%m%d}{suffix}"
        taken = await session.scalar(select(LabOrder.id).where(LabOrder.placer_order_number == number))
        if taken is None:
            return number
    raise Conflict("Could not allocate a placer order number; try again.")  # pragma: no cover


async def load_order_for_change(session: AsyncSession, order_id: uuid.UUID) -> LabOrder:
    """The order, locked until the transaction ends (PostgreSQL; SQLite transactions are serial)."""
    order = await session.scalar(select(LabOrder).where(LabOrder.id == order_id).with_for_update())
    if order is None:
        raise LabOrderNotFound(f"There is no lab order with id {order_id}.")
    return order


async def change_status(
    *, session: AsyncSession, actor: Principal, order_id: uuid.UUID, change: StatusChange
) -> LabOrder:
    """Moves an order by hand (collected, in progress, cancelled); 409 for an illegal move."""
    if not actor.is_staff:
        raise Forbidden("Only staff change lab orders.")
    order = await load_order_for_change(session, order_id)
    previous = order.status
    lifecycle.check_manual_move(previous, change.status)
    if change.status is OrderStatus.CANCELLED:
        if not change.reason:
            raise InvalidInput("Say why the order is cancelled (reason).")
        order.cancel_reason = change.reason
    elif change.reason:
        raise InvalidInput("A reason is recorded only when an order is cancelled.")
    now = utc_now()
    lifecycle.apply_status(order, change.status, now)
    order.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        resource_type="lab_order",
        resource_id=order.id,
        patient_id=order.patient_id,
        detail={"status": f"{previous.value}->{change.status.value}", "reason": change.reason},
    )
    return order
