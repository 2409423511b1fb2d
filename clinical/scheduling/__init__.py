"""Schedules and appointments: working hours, exceptions, free slots, booking and the visit's life cycle.

The appointment state machine is documented in `state_machine`; double booking is refused by the
database itself on PostgreSQL (exclusion constraints, see `models` and `overlap`).

This module is the front door: other packages import the booking, availability and visit services
below from here, the appointment reminders (a periodic job of the worker process), the appointment
state machine's terms, and the ORM models they join on.
"""

from clinical.scheduling.access import load as load_appointment
from clinical.scheduling.access import refuse as refuse_appointment
from clinical.scheduling.appointment_types import create_type, list_types, update_type
from clinical.scheduling.availability import MAX_SLOTS, find_free_slots
from clinical.scheduling.booking import book_appointment, cancel_appointment, reschedule_appointment
from clinical.scheduling.exceptions import UnknownAppointmentType, UnknownPractitioner

# ORM models, exposed for joins: encounters, consult rooms, privacy, analytics and FHIR join on
# appointments.
from clinical.scheduling.models import (
    Appointment,
    AppointmentMode,
    AppointmentType,
    ExceptionReason,
    ScheduleException,
    WorkingHours,
)
from clinical.scheduling.queries import MAX_PAGE_SIZE as MAX_APPOINTMENT_PAGE_SIZE
from clinical.scheduling.queries import audit_page as audit_appointment_page
from clinical.scheduling.queries import get_appointment, list_appointments
from clinical.scheduling.queries import to_read as appointment_read
from clinical.scheduling.reminders import run_appointment_reminders, schedule_reminders
from clinical.scheduling.schedules import (
    add_exception,
    add_working_hours,
    list_exceptions,
    list_working_hours,
    remove_exception,
    remove_working_hours,
)
from clinical.scheduling.schemas import (
    AppointmentCancel,
    AppointmentCreate,
    AppointmentRead,
    AppointmentReschedule,
    AppointmentTypeCreate,
    AppointmentTypeRead,
    AppointmentTypeUpdate,
    ScheduleExceptionCreate,
    ScheduleExceptionRead,
    SlotList,
    SlotRead,
    WorkingHoursCreate,
    WorkingHoursRead,
)
from clinical.scheduling.state_machine import RELEASING_STATUSES, Action, AppointmentStatus
from clinical.scheduling.visits import record_visit_step
from clinical.scheduling.weekly import shifts_between

__all__ = [
    "MAX_APPOINTMENT_PAGE_SIZE",
    "MAX_SLOTS",
    "RELEASING_STATUSES",
    "Action",
    "Appointment",
    "AppointmentCancel",
    "AppointmentCreate",
    "AppointmentMode",
    "AppointmentRead",
    "AppointmentReschedule",
    "AppointmentStatus",
    "AppointmentType",
    "AppointmentTypeCreate",
    "AppointmentTypeRead",
    "AppointmentTypeUpdate",
    "ExceptionReason",
    "ScheduleException",
    "ScheduleExceptionCreate",
    "ScheduleExceptionRead",
    "SlotList",
    "SlotRead",
    "UnknownAppointmentType",
    "UnknownPractitioner",
    "WorkingHours",
    "WorkingHoursCreate",
    "WorkingHoursRead",
    "add_exception",
    "add_working_hours",
    "appointment_read",
    "audit_appointment_page",
    "book_appointment",
    "cancel_appointment",
    "create_type",
    "find_free_slots",
    "get_appointment",
    "list_appointments",
    "list_exceptions",
    "list_types",
    "list_working_hours",
    "load_appointment",
    "record_visit_step",
    "refuse_appointment",
    "remove_exception",
    "remove_working_hours",
    "reschedule_appointment",
    "run_appointment_reminders",
    "schedule_reminders",
    "shifts_between",
    "update_type",
]
