"""Outpatient history and bookings: past appointments with their encounters, and bookings ahead.

Booking refuses a start in the past, by design. The demo's past appointments are therefore
imported as a migration from an earlier system would bring them in: written as booked, audited as
an import, and from then on taken through the real services (encounter, visit steps, cancellation).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from clinical import encounters, scheduling
from clinical.encounters import EncounterCreate, EncounterFinish, PrescriptionRead, PrescriptionStatusChange
from clinical.scheduling import Action, Appointment, AppointmentCancel, AppointmentCreate
from core import audit
from core.principal import Principal
from ownat.demo.consults import record_consult
from ownat.demo.context import Seeding
from ownat.demo.specs import PatientPlan, Upcoming, Visit
from ownat.demo.staff_plan import clinician, visit_type
from ownat.demo.timeline import on_grid

CANCELLATION_REASON = "Patient unwell; will rebook"
# Bookings ahead take the first free slot within this window from their target time.
SEARCH_WINDOW = timedelta(days=28)
# The clinician opens the encounter a couple of minutes into the slot and closes it before its end.
OPENED_AFTER = timedelta(minutes=2)
CLOSED_BEFORE_END = timedelta(minutes=1)


async def past_visit(seeding: Seeding, plan: PatientPlan, visit: Visit) -> None:
    """A past appointment as it went: seen (with the consultation recorded), missed or cancelled."""
    appointment = await _import_appointment(seeding, plan, visit)
    session = seeding.session
    if visit.outcome == "cancelled":
        await scheduling.cancel_appointment(
            session=session,
            actor=seeding.admin,
            appointment_id=appointment.id,
            cancel=AppointmentCancel(reason=CANCELLATION_REASON),
        )
        return
    if visit.outcome == "no_show":
        await scheduling.record_visit_step(
            session=session, actor=seeding.admin, appointment_id=appointment.id, action=Action.NO_SHOW
        )
        return
    assert visit.consult is not None, f"{plan.key}: a completed visit needs its consultation"
    author = seeding.clinician(visit.clinician)
    started = appointment.start_at + OPENED_AFTER
    encounter = await encounters.create_encounter(
        session=session, actor=author, new=EncounterCreate(appointment_id=appointment.id, started_at=started)
    )
    written = await record_consult(
        seeding,
        author=author,
        observer=author,
        encounter_id=encounter.id,
        patient_id=appointment.patient_id,
        started=started,
        consult=visit.consult,
    )
    await encounters.finish_encounter(
        session=session,
        actor=author,
        encounter_id=encounter.id,
        finish=EncounterFinish(ended_at=appointment.end_at - CLOSED_BEFORE_END),
    )
    for prescription in written:
        await _complete_if_over(seeding, author, prescription, started)


async def _import_appointment(seeding: Seeding, plan: PatientPlan, visit: Visit) -> Appointment:
    who = clinician(visit.clinician)
    kind = visit_type(visit.kind)
    practitioner_id = seeding.practitioners[visit.clinician]
    patient_id = seeding.patients[plan.key]
    day = seeding.timeline.past_working_day(visit.days_ago, who.weekdays)
    start = seeding.timeline.at(day, on_grid(who.start, kind.minutes, visit.at))
    length = timedelta(minutes=kind.minutes)
    # PostgreSQL refuses overlapping appointments; step along the grid past any taken slot.
    while not (
        seeding.is_free(practitioner_id, start, start + length)
        and seeding.is_free(patient_id, start, start + length)
    ):
        start += length
    appointment = Appointment(
        id=uuid.uuid4(),
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        appointment_type=seeding.visit_types[kind.code],
        start_at=start,
        end_at=start + length,
        reason=visit.reason,
        booked_by=seeding.admin.user_id,
    )
    seeding.session.add(appointment)
    await seeding.session.flush()
    seeding.take(practitioner_id, start, start + length)
    seeding.take(patient_id, start, start + length)
    audit.record(
        seeding.session,
        actor=seeding.admin,
        action="import",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=patient_id,
        detail={"source": "demo-history", "start_at": start.isoformat()},
    )
    return appointment


async def _complete_if_over(
    seeding: Seeding, prescriber: Principal, prescription: PrescriptionRead, started: datetime
) -> None:
    # A course whose days have run out is completed, as the prescriber records at the next contact.
    if prescription.duration_days is None:
        return
    if started + timedelta(days=prescription.duration_days) > seeding.timeline.now:
        return
    await encounters.change_prescription_status(
        session=seeding.session,
        actor=prescriber,
        prescription_id=prescription.id,
        change=PrescriptionStatusChange(status="completed"),
    )


async def book(seeding: Seeding, plan: PatientPlan, upcoming: Upcoming) -> None:
    """Books the first free slot from the planned time, by the patient or by the clinic."""
    timeline = seeding.timeline
    kind = visit_type(upcoming.kind)
    patient_id = seeding.patients[plan.key]
    practitioner_id = seeding.practitioners[upcoming.clinician]
    if upcoming.at is None:
        target = timeline.now + timedelta(days=upcoming.days, hours=upcoming.hours)
    else:
        target = max(timeline.now, timeline.at(timeline.today + timedelta(days=upcoming.days), upcoming.at))
    slots = await scheduling.find_free_slots(
        session=seeding.session,
        actor=seeding.admin,
        appointment_type=kind.code,
        start=target,
        end=target + SEARCH_WINDOW,
        practitioner_id=practitioner_id,
        limit=scheduling.MAX_SLOTS,
    )
    slot = next((s for s in slots.items if seeding.is_free(patient_id, s.start_at, s.end_at)), None)
    if slot is None:
        raise LookupError(f"demo plan: no free {kind.code} slot for {plan.key} with {upcoming.clinician}")
    await scheduling.book_appointment(
        session=seeding.session,
        actor=seeding.patient_account if upcoming.by_patient else seeding.admin,
        booking=AppointmentCreate(
            patient_id=patient_id,
            practitioner_id=practitioner_id,
            appointment_type=kind.code,
            start_at=slot.start_at,
            reason=upcoming.reason,
        ),
    )
    seeding.take(patient_id, slot.start_at, slot.end_at)
