"""Appointment: book, reschedule and cancel through the scheduling service, with its rules (working
hours, the slot grid, cancellation windows) and its race safety (the database refuses overlaps).

Book by naming the patient and practitioner participants, the appointment type (serviceType) and
the start, or by naming a free Slot. An update may cancel (status `cancelled` with a
cancelationReason) or move the appointment (a new start, or another practitioner); nothing else.
"""

from __future__ import annotations

import uuid
from typing import Any

from clinical import scheduling
from clinical.fhir.constants import SERVICE_TYPE
from clinical.fhir.errors import InvalidResource
from clinical.fhir.provider import FhirContext
from clinical.fhir.resources.appointment import STATUS_TO_FHIR
from clinical.fhir.resources.slot import decode_slot_id
from clinical.fhir.writes import reading
from clinical.fhir.writes.base import Writer, build
from clinical.scheduling import AppointmentCancel, AppointmentCreate, AppointmentReschedule, AppointmentStatus

BOOKABLE_STATUSES = frozenset({None, "booked", "proposed", "pending"})


def _participant(resource: dict[str, Any], resource_type: str) -> uuid.UUID | None:
    for index, participant in enumerate(reading.element(resource, "participant") or []):
        ref = reading.text(participant, "actor.reference") or ""
        if ref.split("/")[-2:-1] == [resource_type]:
            return reading.reference_id(resource, f"participant.{index}.actor", resource_type)
    return None


def _when_and_who(resource: dict[str, Any]) -> tuple[uuid.UUID | None, str | None, Any]:
    """Practitioner, appointment type and start: from a named Slot, or from the resource's own elements."""
    slot = reading.text(resource, "slot.0.reference")
    if slot is not None:
        decoded = decode_slot_id(slot.rsplit("/", 1)[-1])
        if decoded is None:
            raise InvalidResource(f"slot refers to '{slot}', which is no Slot of this server.")
        return decoded
    return (
        _participant(resource, "Practitioner"),
        reading.code(resource, "serviceType.0", SERVICE_TYPE),
        reading.instant(resource, "start"),
    )


class AppointmentWriter(Writer):
    resource_type = "Appointment"
    refusal = "Cancel it instead: update it with status 'cancelled' and a cancelationReason."

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        if reading.text(resource, "status") not in BOOKABLE_STATUSES:
            raise InvalidResource("A new appointment is booked: leave status out or say 'booked'.")
        practitioner_id, kind, start = _when_and_who(resource)
        if practitioner_id is None or kind is None or start is None:
            raise InvalidResource(
                "Name a free Slot (slot), or the Practitioner participant, the appointment type "
                f"(serviceType in {SERVICE_TYPE}) and the start."
            )
        booking_request = build(
            AppointmentCreate,
            patient_id=_participant(resource, "Patient"),
            practitioner_id=practitioner_id,
            appointment_type=kind,
            start_at=start,
            reason=reading.text(resource, "reasonCode.0.text"),
            notes=reading.text(resource, "comment"),
        )
        appointment = await scheduling.book_appointment(
            session=ctx.session, actor=ctx.principal, booking=booking_request
        )
        return str(appointment.id)

    async def update(self, ctx: FhirContext, resource_id: str, resource: dict[str, Any]) -> None:
        appointment_id = reading.parse_id(resource_id, self.resource_type)
        current = await scheduling.load_appointment(
            ctx.session, ctx.principal, appointment_id, action="update", for_update=False
        )
        status = reading.text(resource, "status")
        if status == "cancelled" and current.status is not AppointmentStatus.CANCELLED:
            reason = reading.text(resource, "cancelationReason.text", required=True)
            await scheduling.cancel_appointment(
                session=ctx.session,
                actor=ctx.principal,
                appointment_id=appointment_id,
                cancel=build(AppointmentCancel, reason=reason),
            )
            return
        if status is not None and status != STATUS_TO_FHIR[current.status]:
            raise InvalidResource(
                f"An update may cancel the appointment or move it; its status cannot become '{status}' here "
                "(check-in, start and completion are recorded by staff in the REST API)."
            )
        start = reading.instant(resource, "start", required=True)
        practitioner_id = _participant(resource, "Practitioner")
        if start != current.start_at or practitioner_id not in (None, current.practitioner_id):
            change = build(AppointmentReschedule, start_at=start, practitioner_id=practitioner_id)
            await scheduling.reschedule_appointment(
                session=ctx.session, actor=ctx.principal, appointment_id=appointment_id, change=change
            )
