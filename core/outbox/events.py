"""The platform's event types: the names domains record and the notification templates know."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_REMINDER = "appointment.reminder"
    LAB_RESULT_READY = "lab.result_ready"
    PRESCRIPTION_ISSUED = "prescription.issued"
    DOCUMENT_ADDED = "document.added"
    ALARM_ESCALATED = "alarm.escalated"
    INVOICE_ISSUED = "invoice.issued"
