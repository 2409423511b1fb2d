"""The scheduling service, in one import for the API: `from clinical.scheduling import service`.

The functions live in modules by sub-domain: `appointment_types`, `schedules` (working hours and
exceptions), `availability` (free slots), `booking` (book, reschedule, cancel), `visits`
(check-in, start, completion, no-show) and `queries` (reading appointments).
"""

from __future__ import annotations

from clinical.scheduling.appointment_types import create_type, list_types, update_type
from clinical.scheduling.availability import MAX_SEARCH_DAYS, MAX_SLOTS, find_free_slots
from clinical.scheduling.booking import book_appointment, cancel_appointment, reschedule_appointment
from clinical.scheduling.queries import MAX_PAGE_SIZE, get_appointment, list_appointments, to_read
from clinical.scheduling.schedules import (
    add_exception,
    add_working_hours,
    list_exceptions,
    list_working_hours,
    remove_exception,
    remove_working_hours,
)
from clinical.scheduling.visits import record_visit_step

__all__ = [
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_DAYS",
    "MAX_SLOTS",
    "add_exception",
    "add_working_hours",
    "book_appointment",
    "cancel_appointment",
    "create_type",
    "find_free_slots",
    "get_appointment",
    "list_appointments",
    "list_exceptions",
    "list_types",
    "list_working_hours",
    "record_visit_step",
    "remove_exception",
    "remove_working_hours",
    "reschedule_appointment",
    "to_read",
    "update_type",
]
