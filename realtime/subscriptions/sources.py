"""What the bus says, as topic events: device readings (vital-signs) and alarm changes (alarms).

Messages arrive as the bus contract's structs (`core.bus`). The vital-sign Observation of a reading
is built from the bus message with the same mapping and id the FHIR API serves it with
(`devices.vitals.fhir`, `observation_devices.reading_id`), so the focus of a notification can be
read back, and nothing is loaded from the database on the hot path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from clinical.fhir import reading_id
from core.bus import Alarm, AlarmMessage, DeviceReadings, WardReadings
from devices.vitals import reading_observation
from realtime.subscriptions.record import TopicEvent
from realtime.subscriptions.topics import ALARMS, VITAL_SIGNS

ALARM_CHANGES = ("raised", "acknowledged")
ALARM_SYSTEM = "http://ownat.org/fhir/CodeSystem/alarm-code"
SEVERITY = {"high": "high", "medium": "moderate", "low": "low"}


def vital_events(
    device: DeviceReadings, *, ward_id: uuid.UUID | None = None, with_resource: bool = True
) -> list[TopicEvent]:
    """One event per reading of an attributed device message (`vitals.patient.*`); the Observation
    itself only `with_resource` (some subscriber wants `full-resource` content)."""
    if not device.patient_id:
        return []
    patient_id = uuid.UUID(device.patient_id)
    ward = ward_id or (uuid.UUID(device.ward_id) if device.ward_id else None)
    device_id = device.device_id
    events = []
    for reading in device.readings:
        time = datetime.fromisoformat(reading.time)
        identifier = reading_id(time, reading.metric, device_id)
        resource = None
        if with_resource:
            observation = reading_observation(
                patient_id=patient_id,
                metric=reading.metric,
                value=float(reading.value),
                unit=reading.unit,
                time=time,
                device_id=device_id,
            )
            meta = {**observation["meta"], "lastUpdated": time.isoformat()}
            resource = {**observation, "id": identifier, "meta": meta}
        events.append(
            TopicEvent(
                topic=VITAL_SIGNS,
                key=f"obs:{identifier}",
                occurred_at=time,
                focus=f"Observation/{identifier}",
                patient_id=patient_id,
                ward_id=ward,
                resource=resource,
            )
        )
    return events


def ward_vital_events(message: WardReadings, *, with_resource: bool = True) -> list[TopicEvent]:
    """The events of a `vitals.ward.*` message (every device of the ward with readings)."""
    ward_id = uuid.UUID(message.ward_id) if message.ward_id else None
    return [
        event
        for device in message.devices
        for event in vital_events(device, ward_id=ward_id, with_resource=with_resource)
    ]


def alarm_events(message: AlarmMessage) -> list[TopicEvent]:
    """A raised or acknowledged alarm (`alarms.patient.*`), as a DetectedIssue event."""
    change, alarm = message.change, message.alarm
    if change not in ALARM_CHANGES:
        return []
    when = alarm.acknowledged_at if change == "acknowledged" else alarm.raised_at
    occurred_at = datetime.fromisoformat(when or alarm.raised_at)
    patient_id = uuid.UUID(alarm.patient_id)
    ward_id = uuid.UUID(alarm.ward_id) if alarm.ward_id else None
    return [
        TopicEvent(
            topic=ALARMS,
            key=f"alarm:{alarm.id}:{change}",
            occurred_at=occurred_at,
            focus=f"DetectedIssue/{alarm.id}",
            patient_id=patient_id,
            ward_id=ward_id,
            resource=detected_issue(alarm, change),
        )
    ]


def detected_issue(alarm: Alarm, change: str) -> dict[str, Any]:
    """An alarm as an R4 DetectedIssue: preliminary while raised, final once acknowledged."""
    detail = f"{alarm.kind} alarm {alarm.code} ({change})"
    if alarm.value is not None:
        detail += f", value {alarm.value}"
    if alarm.score is not None:
        detail += f", score {alarm.score}"
    resource: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": alarm.id,
        "status": "final" if change == "acknowledged" else "preliminary",
        "code": {"coding": [{"system": ALARM_SYSTEM, "code": alarm.code}], "text": detail},
        "severity": SEVERITY.get(alarm.priority, "moderate"),
        "patient": {"reference": f"Patient/{alarm.patient_id}"},
        "identifiedDateTime": alarm.raised_at,
        "detail": detail,
    }
    return resource
