"""Claims: drafted from a finished encounter's diagnoses and uninvoiced charges, then submitted."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.charges import ChargeItem
from billing.insurance import counters
from billing.insurance.exceptions import ClaimStateConflict
from billing.insurance.models import Claim, ClaimDiagnosis, ClaimLine, Coverage, Payer
from billing.insurance.schemas import ClaimCreate, ClaimResponse
from billing.insurance.terms import PLACE_OF_SERVICE, ClaimStatus, CoverageStatus
from billing.insurance.x12_837p import MAX_DIAGNOSES, MAX_POINTERS
from clinical.encounters import Diagnosis, Encounter, EncounterStatus
from core import audit
from core.db import utc_now
from core.errors import Conflict, InvalidInput, NotFound
from core.principal import Principal


async def _claimable_coverage(
    session: AsyncSession, encounter: Encounter, coverage_id: uuid.UUID
) -> Coverage:
    coverage = await session.get(Coverage, coverage_id)
    if coverage is None or coverage.patient_id != encounter.patient_id:
        raise InvalidInput(f"The patient of this encounter has no coverage with id {coverage_id}.")
    day = _service_day(encounter)
    if coverage.status is not CoverageStatus.ACTIVE:
        raise InvalidInput("This coverage is cancelled; choose an active one.")
    if not coverage.period_start <= day <= (coverage.period_end or date.max):
        raise InvalidInput(f"The coverage does not cover the encounter's date, {day.isoformat()}.")
    return coverage


def _service_day(encounter: Encounter) -> date:
    assert encounter.started_at is not None  # a finished encounter has started (a database check)
    return encounter.started_at.date()


async def _claim_content(
    session: AsyncSession, encounter: Encounter
) -> tuple[list[Diagnosis], list[ChargeItem]]:
    """The encounter's diagnoses by rank and its charges not yet on a patient's invoice."""
    diagnoses = list(
        await session.scalars(
            select(Diagnosis).where(Diagnosis.encounter_id == encounter.id).order_by(Diagnosis.rank)
        )
    )
    if not diagnoses:
        raise InvalidInput("Record at least one ICD-10 diagnosis on the encounter before claiming it.")
    charges = list(
        await session.scalars(
            select(ChargeItem)
            .where(ChargeItem.encounter_id == encounter.id, ChargeItem.invoice_id.is_(None))
            .order_by(ChargeItem.service_date, ChargeItem.created_at)
        )
    )
    if not charges:
        raise InvalidInput(
            "The encounter has no charges that are not invoiced yet; record its charges first."
        )
    if len({charge.currency for charge in charges}) > 1:
        raise InvalidInput("The encounter's charges are in different currencies; a claim has one.")
    # A professional claim carries twelve diagnoses; the highest ranked are the ones that count.
    return diagnoses[:MAX_DIAGNOSES], charges


async def create_claim(*, session: AsyncSession, actor: Principal, new: ClaimCreate) -> Claim:
    """A draft claim of the encounter against the coverage, one per encounter and coverage."""
    require_manager(session, actor, action="create", resource_type="claim")
    encounter = await session.get(Encounter, new.encounter_id)
    if encounter is None:
        raise NotFound(f"There is no encounter with id {new.encounter_id}.")
    if encounter.status is not EncounterStatus.FINISHED:
        raise InvalidInput(f"Only a finished encounter can be claimed; this one is {encounter.status.value}.")
    coverage = await _claimable_coverage(session, encounter, new.coverage_id)
    payer = await session.get(Payer, coverage.payer_id)
    if payer is None or not payer.active:
        raise InvalidInput("The coverage's payer no longer accepts claims.")
    diagnoses, charges = await _claim_content(session, encounter)
    pointers = ",".join(str(sequence) for sequence in range(1, min(len(diagnoses), MAX_POINTERS) + 1))
    claim = Claim(
        number=counters.claim_number(await counters.next_value(session, counters.CLAIM_NUMBER)),
        patient_id=encounter.patient_id,
        encounter_id=encounter.id,
        coverage_id=coverage.id,
        payer_id=payer.id,
        status=ClaimStatus.DRAFT,
        currency=charges[0].currency,
        place_of_service=PLACE_OF_SERVICE[encounter.encounter_class.value],
        total_minor=sum(charge.quantity * charge.unit_price_minor for charge in charges),
        created_by=actor.user_id,
        diagnoses=[
            ClaimDiagnosis(sequence=index, code=row.code, display=row.display)
            for index, row in enumerate(diagnoses, start=1)
        ],
        lines=[
            ClaimLine(
                number=index,
                charge_item_id=charge.id,
                code=charge.code,
                description=charge.description,
                service_date=charge.service_date,
                quantity=charge.quantity,
                charge_minor=charge.quantity * charge.unit_price_minor,
                diagnosis_pointers=pointers,
            )
            for index, charge in enumerate(charges, start=1)
        ],
    )
    try:
        async with session.begin_nested():
            session.add(claim)
            await session.flush()
    except IntegrityError as error:
        raise Conflict("This encounter is already claimed against this coverage.") from error
    audit_claim(session, actor, "create", claim)
    return claim


# Every entry about a claim names the status it had then.
audit_claim = audit.RowAudit("claim", context=lambda claim: {"status": claim.status.value})


async def load_claim(
    session: AsyncSession, actor: Principal, claim_id: uuid.UUID, *, action: str, for_update: bool = False
) -> Claim:
    """The claim, for a manager; locked for the transaction when it is about to change."""
    require_manager(session, actor, action=action, resource_type="claim", resource_id=claim_id)
    query = select(Claim).where(Claim.id == claim_id)
    claim = await session.scalar(query.with_for_update() if for_update else query)
    if claim is None:
        raise NotFound(f"There is no claim with id {claim_id}.")
    return claim


async def read_claim(
    *, session: AsyncSession, actor: Principal, claim_id: uuid.UUID, action: str = "read"
) -> Claim:
    """The claim, its read audited on the patient's trail."""
    claim = await load_claim(session, actor, claim_id, action=action)
    audit_claim(session, actor, action, claim)
    return claim


async def submit_claim(*, session: AsyncSession, actor: Principal, claim_id: uuid.UUID) -> Claim:
    """Submits a draft: it gets its interchange control number and can no longer change."""
    claim = await load_claim(session, actor, claim_id, action="submit", for_update=True)
    if claim.status is not ClaimStatus.DRAFT:
        raise ClaimStateConflict(f"Only a draft claim can be submitted; this one is {claim.status.value}.")
    claim.control_number = await counters.next_value(session, counters.CONTROL_NUMBER)
    if claim.control_number > counters.MAX_CONTROL_NUMBER:
        raise ClaimStateConflict("The X12 interchange control numbers are exhausted.")
    claim.submitted_at = utc_now()
    claim.status = ClaimStatus.SUBMITTED
    await session.flush()
    audit_claim(session, actor, "submit", claim, control_number=claim.control_number)
    return claim


async def record_response(
    *, session: AsyncSession, actor: Principal, claim_id: uuid.UUID, response: ClaimResponse
) -> Claim:
    """The payer's acknowledgement: accepted for adjudication, or rejected (denied) with its reason."""
    claim = await load_claim(session, actor, claim_id, action="respond", for_update=True)
    if claim.status is not ClaimStatus.SUBMITTED:
        raise ClaimStateConflict(
            f"Only a submitted claim awaits the payer's response; this one is {claim.status.value}."
        )
    claim.responded_at = utc_now()
    claim.payer_claim_number = response.payer_claim_number or claim.payer_claim_number
    if response.accepted:
        claim.status = ClaimStatus.ACCEPTED
    else:
        claim.status, claim.denial_reason = ClaimStatus.DENIED, response.reason
    await session.flush()
    audit_claim(session, actor, "respond", claim)
    return claim


async def discard_draft(*, session: AsyncSession, actor: Principal, claim_id: uuid.UUID) -> None:
    """Deletes a draft claim (made against the wrong coverage, say); submitted claims stay for good."""
    claim = await load_claim(session, actor, claim_id, action="delete", for_update=True)
    if claim.status is not ClaimStatus.DRAFT:
        raise ClaimStateConflict(f"Only a draft claim can be discarded; this one is {claim.status.value}.")
    audit_claim(session, actor, "delete", claim)
    await session.delete(claim)
    await session.flush()
