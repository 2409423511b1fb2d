"""Charges from a finished encounter: its consultation by duration, its procedures, its lab tests.

Each source has a key (the encounter, "encounter:code", the lab order item); the database's
unique (source_type, source_key) means a source is charged once, however often it is asked for.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import CHARGERS, not_found
from billing.charges import pricing
from billing.charges.models import ChargeItem, ChargeSource
from billing.charges.schemas import ChargeRead, EncounterCharges, EncounterChargesRead
from clinical.encounters import Encounter, EncounterStatus, practitioner_of
from clinical.lab import LabOrder, LabOrderItem, OrderStatus
from core import audit
from core.access import refuse, require_role
from core.errors import Conflict, InvalidInput
from core.principal import Principal, Role
from core.settings import Settings

RESOURCE = "billing_charge"


async def charge_encounter(
    *,
    session: AsyncSession,
    actor: Principal,
    settings: Settings,
    encounter_id: uuid.UUID,
    request: EncounterCharges,
) -> EncounterChargesRead:
    """Creates the charges of a finished encounter that are not charged yet; returns both kinds."""
    require_role(session, actor, CHARGERS, action="create", resource_type=RESOURCE, resource_id=encounter_id)
    # Locked: two requests charging one encounter take turns (the unique key is the backstop).
    encounter = await session.scalar(select(Encounter).where(Encounter.id == encounter_id).with_for_update())
    if encounter is None:
        raise not_found("encounter", encounter_id)
    await _require_own_encounter(session, actor, encounter)
    if encounter.status is not EncounterStatus.FINISHED or encounter.started_at is None:
        raise Conflict("Charges are made from finished encounters; finish this one first.")
    candidates = await _candidates(session, actor, settings, encounter, request)
    keys = [(c.source_type, c.source_key) for c in candidates]
    existing = (
        list(
            await session.scalars(
                select(ChargeItem).where(tuple_(ChargeItem.source_type, ChargeItem.source_key).in_(keys))
            )
        )
        if keys
        else []
    )
    charged = {(c.source_type, c.source_key) for c in existing}
    created = [c for c in candidates if (c.source_type, c.source_key) not in charged]
    try:
        async with session.begin_nested():
            session.add_all(created)
    except IntegrityError as error:
        raise Conflict("These sources were charged by a concurrent request; reload the charges.") from error
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type=RESOURCE,
        resource_id=encounter_id,
        patient_id=encounter.patient_id,
        detail={"charges": [str(c.id) for c in created]},
    )
    return EncounterChargesRead(
        created=[ChargeRead.model_validate(c) for c in created],
        already_charged=[ChargeRead.model_validate(c) for c in existing],
    )


async def _require_own_encounter(session: AsyncSession, actor: Principal, encounter: Encounter) -> None:
    """Clinicians charge only the encounters they held (audited refusal); managers charge any."""
    if actor.role is not Role.CLINICIAN:
        return
    if (await practitioner_of(session, actor)).id != encounter.practitioner_id:
        refuse(
            session,
            actor,
            action="create",
            resource_type=RESOURCE,
            resource_id=encounter.id,
            patient_id=encounter.patient_id,
            message="Clinicians charge only their own encounters.",
        )


async def _candidates(
    session: AsyncSession,
    actor: Principal,
    settings: Settings,
    encounter: Encounter,
    request: EncounterCharges,
) -> list[ChargeItem]:
    assert encounter.started_at is not None and encounter.ended_at is not None
    day = encounter.started_at.date()
    common: dict[str, Any] = {
        "settings": settings,
        "patient_id": encounter.patient_id,
        "encounter_id": encounter.id,
        "created_by": actor.user_id,
    }
    items: list[ChargeItem] = []
    if request.consultation:
        minutes = int((encounter.ended_at - encounter.started_at).total_seconds() // 60)
        service = await pricing.consultation_for(session, minutes)
        items.append(
            await pricing.priced_charge(
                session,
                service=service,
                day=day,
                source=ChargeSource.CONSULTATION,
                source_key=str(encounter.id),
                **common,
            )
        )
    codes = [p.code for p in request.procedures]
    if len(set(codes)) != len(codes):
        raise InvalidInput("Name each procedure code once; use its quantity for repeats.")
    for procedure in request.procedures:
        service = await pricing.service_by_code(session, procedure.code)
        if service.kind.value != "procedure":
            raise InvalidInput(f"{procedure.code} is a {service.kind.value} code, not a procedure.")
        items.append(
            await pricing.priced_charge(
                session,
                service=service,
                day=day,
                source=ChargeSource.PROCEDURE,
                source_key=f"{encounter.id}:{service.code}",
                quantity=procedure.quantity,
                **common,
            )
        )
    if request.lab_orders:
        items.extend(await _lab_charges(session, encounter, common))
    return items


async def _lab_charges(
    session: AsyncSession, encounter: Encounter, common: dict[str, Any]
) -> list[ChargeItem]:
    rows = await session.execute(
        select(LabOrderItem, LabOrder.created_at)
        .join(LabOrder, LabOrder.id == LabOrderItem.order_id)
        .where(LabOrder.encounter_id == encounter.id, LabOrder.status != OrderStatus.CANCELLED)
        .order_by(LabOrder.created_at, LabOrderItem.position)
    )
    items = []
    for item, ordered_at in rows:
        service = await pricing.lab_test_for(session, item.loinc_code, item.display)
        items.append(
            await pricing.priced_charge(
                session,
                service=service,
                day=ordered_at.date(),
                source=ChargeSource.LAB_TEST,
                source_key=str(item.id),
                **common,
            )
        )
    return items
