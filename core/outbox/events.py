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
    # Every alarm change, for systems (IHE PCD-04 to an alarm manager), not for people: the
    # notification fan-out leaves these to `realtime.alarms.pcd04`.
    ALARM_CHANGED = "alarm.changed"
    INVOICE_ISSUED = "invoice.issued"
    MESSAGE_RECEIVED = "message.received"
    DATA_REQUEST_ANSWERED = "data_request.answered"
    # Account emails: addressed to the email in the payload (there may be no account behind it).
    ACCOUNT_VERIFY_EMAIL = "account.verify_email"
    ACCOUNT_ALREADY_REGISTERED = "account.already_registered"
    ACCOUNT_PASSWORD_RESET = "account.password_reset"  # noqa: S105 (an event name)
    ACCOUNT_NOT_FOUND = "account.not_found"
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 (an event name)
    ACCOUNT_ERASED = "account.erased"
