"""Publishing alarm changes and NEWS2 scores on the bus, after the transaction that made them has committed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from core.bus import (
    ALARMS_ESCALATION,
    Alarm,
    AlarmMessage,
    Bus,
    Message,
    News2Score,
    alarms_patient,
    alarms_ward,
    news2_patient,
    news2_ward,
)
from realtime.alarms.schemas import AlarmChange, News2Read


def channels_for(change: AlarmChange) -> list[str]:
    """The patient's channel, the ward's if known, and the escalation channel for escalations."""
    alarm = change.alarm
    channels = [alarms_patient(alarm.patient_id)]
    if alarm.ward_id is not None:
        channels.append(alarms_ward(alarm.ward_id))
    if change.change == "escalated":
        channels.append(ALARMS_ESCALATION)
    return channels


def alarm_message(change: AlarmChange) -> AlarmMessage:
    """The bus's `{"type": "alarm", "change", "alarm"}`; the alarm is the REST API's JSON of it.

    A field added to `AlarmRead` and not to the contract's `Alarm` fails here, loudly, rather than
    leave the bus's shape behind the API's.
    """
    return AlarmMessage(change=change.change, alarm=Alarm(**change.alarm.model_dump(mode="json")))


async def publish_changes(bus: Bus, changes: Iterable[AlarmChange]) -> None:
    """Publishes each change as {"type": "alarm", "change": ..., "alarm": {...}}; call after commit.

    In order, in one round trip: a round's changes (dozens when NEWS2 bands move on a busy ward)
    published one awaited message at a time would hold its last alarm back by as many round trips.
    """
    messages: list[tuple[str, Message]] = []
    for change in changes:
        message = alarm_message(change)
        messages += [(channel, message) for channel in channels_for(change)]
    await bus.publish_many(messages)


def news2_channels(patient_id: uuid.UUID, ward_id: uuid.UUID | None) -> list[str]:
    """The patient's NEWS2 channel, and their ward's when they are in a bed."""
    channels = [news2_patient(patient_id)]
    if ward_id is not None:
        channels.append(news2_ward(ward_id))
    return channels


async def publish_news2(bus: Bus, answers: Iterable[tuple[News2Read, uuid.UUID | None]]) -> None:
    """Publishes each (answer, ward) as the answer itself, the REST answer's JSON; call after commit."""
    messages: list[tuple[str, Message]] = []
    for answer, ward_id in answers:
        message = News2Score(**answer.model_dump(mode="json"))
        messages += [(channel, message) for channel in news2_channels(answer.patient_id, ward_id)]
    if messages:
        await bus.publish_many(messages)
