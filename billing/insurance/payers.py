"""Payers and patients' coverages, managed by billing staff."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.insurance.exceptions import CoverageConflict
from billing.insurance.models import Coverage, Payer
from billing.insurance.schemas import CoverageCreate, PayerCreate
from billing.insurance.terms import CoverageStatus
from clinical.patients import Patient
from core import audit
from core.errors import Conflict, NotFound
from core.principal import Principal


async def create_payer(*, session: AsyncSession, actor: Principal, payer: PayerCreate) -> Payer:
    """A new payer; its name and electronic id are unique."""
    require_manager(session, actor, action="create", resource_type="payer")
    row = Payer(name=payer.name, electronic_id=payer.electronic_id.upper(), active=True)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as error:
        raise Conflict("A payer with this name or electronic id exists already.") from error
    audit.record(session, actor=actor, action="create", resource_type="payer", resource_id=row.id)
    return row


async def list_payers(*, session: AsyncSession, actor: Principal) -> list[Payer]:
    """Every payer, by name."""
    require_manager(session, actor, action="read", resource_type="payer")
    return list(await session.scalars(select(Payer).order_by(Payer.name)))


async def get_payer(session: AsyncSession, payer_id: uuid.UUID) -> Payer:
    payer = await session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"There is no payer with id {payer_id}.")
    return payer


async def _overlapping(session: AsyncSession, patient_id: uuid.UUID, new: CoverageCreate) -> Coverage | None:
    """An active coverage of the same rank whose period meets the new one's."""
    far = date.max
    query = select(Coverage).where(
        Coverage.patient_id == patient_id,
        Coverage.priority == new.priority,
        Coverage.status == CoverageStatus.ACTIVE,
        Coverage.period_start <= (new.period_end or far),
        or_(Coverage.period_end.is_(None), Coverage.period_end >= new.period_start),
    )
    return await session.scalar(query.limit(1))


async def add_coverage(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID, coverage: CoverageCreate
) -> Coverage:
    """Records a patient's coverage; one active coverage per rank at any date."""
    require_manager(session, actor, action="create", resource_type="coverage")
    # Locking the patient serialises coverage changes of one patient (PostgreSQL; SQLite is serial).
    patient = await session.scalar(select(Patient).where(Patient.id == patient_id).with_for_update())
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    await get_payer(session, coverage.payer_id)
    clash = await _overlapping(session, patient_id, coverage)
    if clash is not None:
        raise CoverageConflict(
            f"The patient already has an active rank-{coverage.priority} coverage ({clash.plan_name}) in this "
            "period; end or cancel it first."
        )
    row = Coverage(
        patient_id=patient_id,
        **coverage.model_dump(),
        status=CoverageStatus.ACTIVE,
        created_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="coverage",
        resource_id=row.id,
        patient_id=patient_id,
    )
    return row


async def list_coverages(*, session: AsyncSession, actor: Principal, patient_id: uuid.UUID) -> list[Coverage]:
    """The patient's coverages, by rank then start."""
    require_manager(session, actor, action="read", resource_type="coverage")
    rows = list(
        await session.scalars(
            select(Coverage)
            .where(Coverage.patient_id == patient_id)
            .order_by(Coverage.priority, Coverage.period_start)
        )
    )
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="coverage",
        patient_id=patient_id,
        detail={"ids": [str(row.id) for row in rows]},
    )
    return rows


async def cancel_coverage(*, session: AsyncSession, actor: Principal, coverage_id: uuid.UUID) -> Coverage:
    """Marks a coverage cancelled (entered in error or ended by the payer); claims keep referring to it."""
    require_manager(session, actor, action="cancel", resource_type="coverage", resource_id=coverage_id)
    row = await session.get(Coverage, coverage_id)
    if row is None:
        raise NotFound(f"There is no coverage with id {coverage_id}.")
    row.status = CoverageStatus.CANCELLED
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="cancel",
        resource_type="coverage",
        resource_id=row.id,
        patient_id=row.patient_id,
    )
    return row
