"""Who is told of an event, and how: recipients with their addresses, language, zone and channels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Practitioner
from clinical.patients import Patient
from core.identity import User
from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel, NotificationPreference
from notifications.settings import NotificationSettings
from notifications.templates import language_of

APPOINTMENT_EVENTS = frozenset(
    {
        EventType.APPOINTMENT_BOOKED,
        EventType.APPOINTMENT_RESCHEDULED,
        EventType.APPOINTMENT_CANCELLED,
    }
)
# Email is too slow for an alarm; the people on shift get it in the app and, if they chose, by SMS.
EVENT_CHANNELS: dict[str, frozenset[Channel]] = {
    EventType.ALARM_ESCALATED: frozenset({Channel.IN_APP, Channel.SMS}),
}
PERSONAL_CHANNELS = frozenset({Channel.IN_APP, Channel.EMAIL, Channel.SMS})
ESCALATION_ROLES = (Role.NURSE, Role.CLINICIAN)


@dataclass(slots=True)
class Recipient:
    # None for an address with no account behind it (an account email).
    user_id: uuid.UUID | None
    is_staff: bool
    email: str
    phone: str | None
    language: str
    zone: ZoneInfo
    channels: set[Channel] = field(default_factory=set)
    quiet_start: time | None = None
    quiet_end: time | None = None


def zone_named(name: str | None, default: str) -> ZoneInfo:
    """The IANA zone `name`, or `default` when it is unset or unknown."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def _recipient(
    user: User,
    preference: NotificationPreference | None,
    patient: Patient | None,
    *,
    event_type: str,
    settings: NotificationSettings,
    only: frozenset[Channel] | None = None,
) -> Recipient | None:
    pref = preference or NotificationPreference(email_enabled=True, sms_enabled=False, muted_events=[])
    # An escalated alarm cannot be muted: it is the last line of defence.
    if event_type in (pref.muted_events or []) and event_type != EventType.ALARM_ESCALATED:
        return None
    phone = pref.phone or (patient.phone if patient else None)
    channels = {Channel.IN_APP}
    if pref.email_enabled and settings.email_configured:
        channels.add(Channel.EMAIL)
    if pref.sms_enabled and phone and settings.sms_url:
        channels.add(Channel.SMS)
    channels &= set(EVENT_CHANNELS.get(event_type, PERSONAL_CHANNELS) & (only or PERSONAL_CHANNELS))
    language = (
        language_of(pref.language)
        or language_of(patient.preferred_language if patient else None)
        or settings.notify_default_language
    )
    return Recipient(
        user_id=user.id,
        is_staff=user.role is not Role.PATIENT,
        email=user.email,
        phone=phone,
        language=language,
        zone=zone_named(pref.time_zone, settings.notify_default_time_zone),
        channels=channels,
        quiet_start=pref.quiet_start,
        quiet_end=pref.quiet_end,
    )


async def _users(session: AsyncSession, *conditions: Any) -> list[tuple[User, NotificationPreference | None]]:
    rows = await session.execute(
        select(User, NotificationPreference)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(User.is_active.is_(True), *conditions)
        .order_by(User.id)
    )
    return [(user, pref) for user, pref in rows]


def _uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


async def recipients_for(
    session: AsyncSession, *, event_type: str, payload: dict[str, Any], settings: NotificationSettings
) -> list[Recipient]:
    """The people to tell of this event, each with the channels they may be reached on."""
    found: list[Recipient | None] = []
    if event_type == EventType.MESSAGE_RECEIVED:
        return await _message_recipients(session, payload=payload, settings=settings)
    if event_type == EventType.ALARM_ESCALATED:
        for user, pref in await _users(session, User.role.in_(ESCALATION_ROLES)):
            found.append(_recipient(user, pref, None, event_type=event_type, settings=settings))
        return [r for r in found if r]
    patient_id = _uuid(payload.get("patient_id"))
    if patient_id is not None:
        patient = await session.get(Patient, patient_id)
        for user, pref in await _users(session, User.patient_id == patient_id):
            found.append(_recipient(user, pref, patient, event_type=event_type, settings=settings))
    practitioner_id = _uuid(payload.get("practitioner_id"))
    if event_type in APPOINTMENT_EVENTS and practitioner_id is not None:
        practitioner = await session.get(Practitioner, practitioner_id)
        if practitioner is not None and practitioner.user_id is not None:
            # An email per booking would flood a clinic: the practitioner is told in the app only.
            for user, pref in await _users(session, User.id == practitioner.user_id):
                found.append(
                    _recipient(
                        user,
                        pref,
                        None,
                        event_type=event_type,
                        settings=settings,
                        only=frozenset({Channel.IN_APP}),
                    )
                )
    return [r for r in found if r]


async def _message_recipients(
    session: AsyncSession, *, payload: dict[str, Any], settings: NotificationSettings
) -> list[Recipient]:
    # A message to the patient reaches their account; one to the care team reaches every active
    # member of the thread's department, except its author.
    event_type = EventType.MESSAGE_RECEIVED
    patient_id = _uuid(payload.get("patient_id"))
    if payload.get("to") == "patient" and patient_id is not None:
        patient = await session.get(Patient, patient_id)
        users = await _users(session, User.patient_id == patient_id)
        found = [
            _recipient(user, pref, patient, event_type=event_type, settings=settings) for user, pref in users
        ]
        return [r for r in found if r]
    department_id = _uuid(payload.get("department_id"))
    team = select(Practitioner.user_id).where(
        Practitioner.department_id == department_id, Practitioner.active.is_(True)
    )
    users = await _users(session, User.id.in_(team), User.id != _uuid(payload.get("author_id")))
    staff = [_recipient(user, pref, None, event_type=event_type, settings=settings) for user, pref in users]
    return [r for r in staff if r]
