"""Scheduling errors. Each has its own stable code, so a client can tell the reasons apart."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput


class UnknownAppointmentType(InvalidInput):
    code, title = "unknown-appointment-type", "Unknown appointment type"


class UnknownPractitioner(InvalidInput):
    code, title = "unknown-practitioner", "Unknown practitioner"


class UnknownPatient(InvalidInput):
    code, title = "unknown-patient", "Unknown patient"


class InvalidTimeZone(InvalidInput):
    code, title = "invalid-time-zone", "Invalid time zone"


class InvalidRange(InvalidInput):
    code, title = "invalid-range", "Invalid time range"


class InThePast(InvalidInput):
    code, title = "in-the-past", "Time is in the past"


class TooFarAhead(InvalidInput):
    code, title = "too-far-ahead", "Too far ahead"


class OutsideWorkingHours(InvalidInput):
    code, title = "outside-working-hours", "Outside working hours"


class PractitionerUnavailable(InvalidInput):
    code, title = "practitioner-unavailable", "Practitioner unavailable"


class OffSlotGrid(InvalidInput):
    code, title = "off-slot-grid", "Not on the slot grid"


class OverlappingSchedule(Conflict):
    code, title = "overlapping-schedule", "Overlapping schedule definition"


class SlotTaken(Conflict):
    code, title = "slot-taken", "Slot taken"


class TransitionNotAllowed(Conflict):
    code, title = "transition-not-allowed", "Status change not allowed"


class CancellationWindowClosed(Conflict):
    code, title = "cancellation-window-closed", "Cancellation window closed"


class AppointmentsAffected(Conflict):
    code, title = "appointments-affected", "Appointments in the way"


class DuplicateCode(Conflict):
    code, title = "duplicate-code", "Code already in use"
