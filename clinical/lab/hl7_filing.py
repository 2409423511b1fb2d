"""Matching a read ORU^R01 to its orders and patient, and filing its results.

Every order group is matched and checked before anything is written, so a message is filed whole
or not at all; what does not fit becomes an `Hl7Problem` (AE) that keeps the message in the inbox.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import references, results
from clinical.lab.exceptions import ResultRefused
from clinical.lab.hl7.errors import ErrorCode, Location, application_error
from clinical.lab.hl7.oru import Observation, OrderObservations, OruMessage
from clinical.lab.models import Hl7Message, LabOrder, LabResult
from core.principal import Principal


async def identify(session: AsyncSession, row: Hl7Message, oru: OruMessage) -> None:
    """Notes on the inbox row what the message names: the patient (if one MRN matches) and the order."""
    mrns = oru.medical_record_numbers
    row.patient_identifier = (mrns[0] if mrns else oru.patient_identifiers[0].value)[:64]
    row.patient_name = oru.patient_name[:200] or None
    row.placer_order_number = oru.orders[0].placer_order_number[:64]
    patients = await references.patients_by_mrn(session, mrns)
    if len(patients) == 1:
        row.patient_id = patients[0].id


async def file_message(
    session: AsyncSession,
    row: Hl7Message,
    oru: OruMessage,
    *,
    actor: Principal,
    now: datetime,
    override_order: LabOrder | None = None,
) -> list[LabResult]:
    """Files every result of the message; `override_order` (a person's choice) replaces matching."""
    groups: dict[str, list[OrderObservations]] = defaultdict(list)
    for group in oru.orders:
        groups[override_order.placer_order_number if override_order else group.placer_order_number].append(
            group
        )
    plans = []
    for placer, order_groups in groups.items():
        order = override_order or await _matched_order(session, placer, order_groups[0], oru)
        _learn_filler_number(order, order_groups)
        observations, specimen_notes = _results_and_notes(order, order_groups)
        _check_ordered(order, observations)
        _note_report(order, order_groups, specimen_notes)
        try:
            plans.append(
                await results.plan_results(session, order, [_new_result(o, now) for o in observations])
            )
        except ResultRefused as refused:
            raise application_error(ErrorCode.INTERNAL_ERROR, refused.detail) from refused
    row.order_id = plans[0].order.id
    row.patient_id = plans[0].order.patient_id
    filed: list[LabResult] = []
    for plan in plans:
        filed += await results.write_plan(session, plan, actor=actor, now=now, source_message_id=row.id)
    return filed


async def _matched_order(
    session: AsyncSession, placer: str, group: OrderObservations, oru: OruMessage
) -> LabOrder:
    # Locked: two messages for one order are filed one after the other (SQLite is serial anyway).
    order = await session.scalar(
        select(LabOrder).where(LabOrder.placer_order_number == placer).with_for_update()
    )
    if order is None:
        raise application_error(
            ErrorCode.UNKNOWN_KEY,
            f"no order has placer order number {placer}",
            Location("OBR", group.sequence, 2),
        )
    patient = await references.patient(session, order.patient_id)
    if patient.mrn not in oru.medical_record_numbers:
        named = ", ".join(oru.medical_record_numbers) or "no medical record number"
        raise application_error(
            ErrorCode.UNKNOWN_KEY,
            f"patient mismatch: PID-3 names {named}, but order {placer} is for another patient",
            Location("PID", 1, 3),
        )
    return order


def _learn_filler_number(order: LabOrder, groups: list[OrderObservations]) -> None:
    filler = next((g.filler_order_number for g in groups if g.filler_order_number), None)
    if filler and order.filler_order_number is None:
        order.filler_order_number = filler[:64]


def _results_and_notes(
    order: LabOrder, groups: list[OrderObservations]
) -> tuple[list[Observation], list[str]]:
    """The results to file; specimen observations that are not ordered tests become report notes."""
    ordered = {item.loinc_code for item in order.items}
    observations = [obs for group in groups for obs in group.observations]
    notes = [note for group in groups for note in group.specimen_notes]
    for obs in (obs for group in groups for obs in group.specimen_observations):
        if obs.loinc_code in ordered:
            observations.append(obs)
        else:
            unit = obs.unit.text if obs.unit else ""
            notes.append(f"{obs.display or obs.loinc_code}: {obs.value} {unit}".strip())
    return observations, notes


def _note_report(order: LabOrder, groups: list[OrderObservations], specimen_notes: list[str]) -> None:
    """The report's times (OBR-7, OBR-22) and comments, as this message gives them."""
    observed = [g.observed_at for g in groups if g.observed_at is not None]
    reported = [g.reported_at for g in groups if g.reported_at is not None]
    if observed:
        order.effective_at = min(observed)
    if reported:
        order.reported_at = max(reported)
    notes = [g.note for g in groups if g.note] + specimen_notes
    if notes:
        order.report_note = "\n".join(notes)


def _check_ordered(order: LabOrder, observations: list[Observation]) -> None:
    ordered = {item.loinc_code for item in order.items}
    for obs in observations:
        if obs.loinc_code not in ordered:
            raise application_error(
                ErrorCode.UNKNOWN_KEY,
                f"test {obs.loinc_code} was not ordered on {order.placer_order_number}",
                Location("OBX", obs.sequence, 3),
            )


def _new_result(obs: Observation, now: datetime) -> results.NewResult:
    # The laboratory's own range and flag are filed as reported; the catalogue's are not substituted.
    return results.NewResult(
        loinc_code=obs.loinc_code,
        value_type=obs.value_type,
        value=obs.value,
        value_numeric=obs.value_numeric,
        comparator=obs.comparator,
        unit=obs.unit,
        reference_low=obs.reference.low,
        reference_high=obs.reference.high,
        reference_text=obs.reference.text[:64] if obs.reference.text else None,
        abnormal_flag=obs.abnormal_flag,
        status=obs.status,
        observed_at=obs.observed_at or now,
        note=obs.note,
    )
