"""Notification API models: the inbox, preferences, deliveries for administrators, webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from core.outbox import EventType
from core.paging import Page
from notifications.models import Channel, DeliveryStatus
from notifications.templates import SUPPORTED_LANGUAGES


def _without_offset(value: time) -> time:
    # The window is wall-clock time in `time_zone`; an offset would say another zone (and cannot be
    # stored in the time column, nor compared with the local time it is meant for).
    if value.tzinfo is not None:
        raise ValueError("quiet hours are local times in time_zone: give them without an offset, e.g. 22:00")
    return value


# Served as "HH:MM:SS"; JSON Schema's `time` format would promise an offset, which it never has.
WallClockTime = Annotated[
    time,
    AfterValidator(_without_offset),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "Local wall-clock time in time_zone, HH:MM or HH:MM:SS, without an offset",
            "examples": ["22:00:00"],
        }
    ),
]


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_type: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class Inbox(Page[NotificationRead]):
    """One page of the caller's in-app notifications, newest first."""

    unread_count: int


class PreferencesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email_enabled: bool = True
    sms_enabled: bool = False
    phone: str | None = None
    language: str | None = None
    time_zone: str | None = None
    quiet_start: WallClockTime | None = None
    quiet_end: WallClockTime | None = None
    muted_events: list[str] = []


class PreferencesUpdate(BaseModel):
    """The whole set of preferences (PUT): in-app notifications are always on."""

    email_enabled: bool = True
    sms_enabled: bool = False
    phone: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164, e.g. +33612345678"
    )
    language: str | None = Field(default=None, description=f"one of {sorted(SUPPORTED_LANGUAGES)}")
    time_zone: str | None = Field(default=None, description="IANA name, e.g. Europe/Paris")
    quiet_start: WallClockTime | None = None
    quiet_end: WallClockTime | None = None
    muted_events: list[EventType] = []

    @field_validator("language")
    @classmethod
    def _supported(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"messages are written in {', '.join(sorted(SUPPORTED_LANGUAGES))}")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"unknown time zone {value!r}; use an IANA name such as Europe/Paris"
                ) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PreferencesUpdate:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("give both quiet_start and quiet_end, or neither")
        if self.sms_enabled and not self.phone:
            raise ValueError("text messages need a phone number")
        if EventType.ALARM_ESCALATED in self.muted_events:
            raise ValueError("escalated alarms cannot be muted")
        return self


class DeliveryRead(BaseModel):
    """A delivery as administrators see it: where it stands and why it failed."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    channel: Channel
    user_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    address: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class WebhookCreate(BaseModel):
    url: AnyHttpUrl
    description: str | None = Field(default=None, max_length=200)
    event_types: list[EventType] = Field(default=[], description="empty: every event type")


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Verify X-Ownat-Signature with it; shown this once only")


class Backlog(BaseModel):
    """Where notifications stand, for the administrators' system page."""

    waiting_events: int = Field(description="outbox events not yet fanned out")
    deliveries: dict[str, dict[str, int]] = Field(description="counts by status, then channel")
    oldest_due_at: datetime | None = Field(description="the oldest pending delivery's due time")
