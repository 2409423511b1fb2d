"""The bus contract: every channel's name, the patterns subscribers use, and each payload's shape.

Publishers build names with the functions here and payloads with the structs here; subscribers match
the patterns here, read names back with `parse_channel` and decode payloads with `decode_payload`. Nothing
else in the code base spells a channel name. Payloads are msgspec structs of primitives (ids and
times as strings, as they travel): `core` may import no domain, and msgspec encodes and decodes them
in C, which the readings' path (tens of thousands of values a second) needs.

Supported integration surface (the README documents them; keys and value types do not change):
`vitals.device.<device id>`, `vitals.patient.<patient id>`, `vitals.ward.<ward id>`,
`devices.status.<device id>`, `devices.event.<device id>`, `alarms.patient.<patient id>`,
`alarms.ward.<ward id>`, `alarms.escalation`, `alarms.evaluation` and `notifications.user.<user id>`. The others
(`news2.*`, `identity.sessions`, `consult.instance.*`, `fhir.subscriptions.changed`,
`fhir.subscription.*`) are internal and may change with the code that uses them.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

import msgspec

# --- Names -----------------------------------------------------------------------------------------


def vitals_device(device_id: object) -> str:
    """A device's readings, whether or not it is bound to a patient."""
    return f"vitals.device.{device_id}"


def vitals_patient(patient_id: object) -> str:
    """A bound device's readings, on its patient's channel."""
    return f"vitals.patient.{patient_id}"


def vitals_ward(ward_id: object) -> str:
    """One message per ward and fan-out round, holding each of its devices' readings."""
    return f"vitals.ward.{ward_id}"


def devices_status(device_id: object) -> str:
    return f"devices.status.{device_id}"


def devices_event(device_id: object) -> str:
    return f"devices.event.{device_id}"


def alarms_patient(patient_id: object) -> str:
    return f"alarms.patient.{patient_id}"


def alarms_ward(ward_id: object) -> str:
    return f"alarms.ward.{ward_id}"


# Escalated alarms, once more, for whoever pages the next responder.
ALARMS_ESCALATION = "alarms.escalation"

# Each live alarm evaluator's heartbeat: every api instance warns its dashboards when none is heard.
ALARMS_EVALUATION = "alarms.evaluation"


def news2_patient(patient_id: object) -> str:
    return f"news2.patient.{patient_id}"


def news2_ward(ward_id: object) -> str:
    return f"news2.ward.{ward_id}"


def notifications_user(user_id: object) -> str:
    """A user's in-app notifications, pushed to their open pages."""
    return f"notifications.user.{user_id}"


# Ended sessions: every api instance closes the sockets a message names.
IDENTITY_SESSIONS = "identity.sessions"


def consult_instance(instance: str) -> str:
    """Consult signalling relayed to the api instance that holds the member's socket."""
    return f"consult.instance.{instance}"


# A FHIR subscription was created, changed or deleted: every dispatcher reloads.
FHIR_SUBSCRIPTIONS_CHANGED = "fhir.subscriptions.changed"


def fhir_subscription(subscription_id: object) -> str:
    """A subscription's notification bundles, for the instance holding its websockets."""
    return f"fhir.subscription.{subscription_id}"


# --- Patterns (Redis globs) ------------------------------------------------------------------------

VITALS_ANY = "vitals.*"
VITALS_WARD_ANY = "vitals.ward.*"
ALARMS_PATIENT_ANY = "alarms.patient.*"
ALARMS_WARD_ANY = "alarms.ward.*"
NEWS2_PATIENT_ANY = "news2.patient.*"
NEWS2_WARD_ANY = "news2.ward.*"
NOTIFICATIONS_USER_ANY = "notifications.user.*"
FHIR_SUBSCRIPTION_ANY = "fhir.subscription.*"

# --- Reading names back ----------------------------------------------------------------------------


class ChannelName(NamedTuple):
    """A per-entity channel read back: `vitals.ward.<id>` is ("vitals", "ward", "<id>")."""

    family: str
    kind: str
    id: str


def parse_channel(channel: str) -> ChannelName | None:
    """The family, kind and id of a per-entity channel; None for a fixed one (`identity.sessions`)."""
    parts = channel.split(".", 2)
    if len(parts) != 3 or not parts[2]:
        return None
    return ChannelName(parts[0], parts[1], parts[2])


# --- Payloads --------------------------------------------------------------------------------------


class Reading(msgspec.Struct, gc=False):
    """One value on the bus: LOINC code, value in `unit` (UCUM), ISO 8601 time with offset."""

    metric: str
    value: float
    unit: str
    time: str


class DeviceReadings(msgspec.Struct, gc=False):
    """`vitals.device.*` and `vitals.patient.*`: one device's readings and its attribution.

    Publishers always send every field (an unbound device's ids as null); a reader accepts them left out.
    """

    device_id: str
    patient_id: str | None = None
    bed_id: str | None = None
    ward_id: str | None = None
    readings: list[Reading] = []


class WardReadings(msgspec.Struct, gc=False, omit_defaults=True):
    """`vitals.ward.*`: the readings of each of the ward's devices that had any this round.

    `sent_at` (Unix seconds) is when the ingest worker published it, for the hub's bus-hop histogram;
    `traceparent` (W3C) is the message's `bus.publish` span when tracing is on and one of its
    devices' messages was sampled. Both are left out when absent; readers may ignore them.
    """

    ward_id: str
    devices: list[DeviceReadings]
    sent_at: float | None = None
    traceparent: str | None = None


class DeviceStatus(msgspec.Struct):
    """`devices.status.*`: a device's state as it reported it."""

    device_id: str
    online: bool
    time: str
    battery_pct: int | None
    sensor_off: bool
    firmware: str | None


class DeviceEvent(msgspec.Struct):
    """`devices.event.*`: a device's own alarm or technical event."""

    device_id: str
    seq: int
    time: str
    code: str
    severity: str
    detail: str | None


class Alarm(msgspec.Struct):
    """An alarm as the REST API reads it (`realtime.alarms.AlarmRead` in JSON), field for field."""

    id: str
    patient_id: str
    bed_id: str | None
    ward_id: str | None
    kind: str
    condition_key: str
    code: str
    priority: str
    status: str
    raised_at: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    resolved_by: str | None
    resolved_at: str | None
    escalated_at: str | None
    device_id: str | None
    value: float | None
    score: int | None
    detail: dict[str, Any]
    condition_ended_at: str | None = None


class AlarmMessage(msgspec.Struct, tag_field="type", tag="alarm"):
    """`alarms.*`: one change to an alarm (raised, acknowledged, escalated, resolved, ...)."""

    change: str
    alarm: Alarm


class EvaluatorBeat(msgspec.Struct):
    """`alarms.evaluation`: a live alarm evaluator completed a round at `sent_at` (Unix seconds).

    Sent every few seconds by each evaluator while its rounds commit (`realtime.alarms.heartbeat`);
    its silence is what the hubs watch for (`realtime.hub.alarm_watch`).
    """

    evaluator: str  # host:pid, unique per running evaluator
    sent_at: float
    rounds: int  # rounds committed since the evaluator started
    waiting: int  # patients and devices waiting for its next round


class News2Score(msgspec.Struct):
    """`news2.*`: the REST answer for a patient's NEWS2 (`realtime.alarms.News2Read` in JSON)."""

    patient_id: str
    computed_at: str
    total: int
    risk: str
    complete: bool
    parameter_scores: dict[str, int]
    missing: list[str]
    values: dict[str, Any]
    monitoring: dict[str, Any] | None = None


class Notification(msgspec.Struct, tag_field="type", tag="notification"):
    """`notifications.user.*`: an in-app notification, as the inbox lists it."""

    id: str
    event_type: str
    title: str
    body: str
    created_at: str


class SessionsEnded(msgspec.Struct, omit_defaults=True):
    """`identity.sessions`: a user's sessions before `generation`, one refresh-token family, or one token."""

    user_id: str
    generation: int | None = None
    family_id: str | None = None
    token_id: str | None = None


class ConsultRelay(msgspec.Struct):
    """`consult.instance.*`: a signalling event for a member whose socket is on that instance."""

    to: str
    event: dict[str, Any]
    close: int | None = None


class SubscriptionsChanged(msgspec.Struct):
    """`fhir.subscriptions.changed`."""

    changed: bool = True


# `fhir.subscription.*` carries a FHIR R4 Bundle (subscription-notification): its shape is FHIR's,
# so it travels as a plain dict.
FhirBundle = dict[str, Any]

# --- Encoding and decoding -------------------------------------------------------------------------

Payload = TypeVar("Payload", bound=msgspec.Struct)

# Stateless and reusable: built once, shared by every publisher and subscriber of the process.
_ENCODER = msgspec.json.Encoder()
_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def encode_payload(payload: msgspec.Struct) -> bytes:
    """A payload's JSON, as it travels on the bus."""
    return _ENCODER.encode(payload)


def decode_payload(payload_type: type[Payload], raw: str | bytes) -> Payload:
    """Decodes a payload as its struct; msgspec.ValidationError (a ValueError) if it has another shape."""
    decoder = _DECODERS.get(payload_type)
    if decoder is None:
        decoder = _DECODERS[payload_type] = msgspec.json.Decoder(payload_type)
    result: Payload = decoder.decode(raw)
    return result


__all__ = [
    "ALARMS_ESCALATION",
    "ALARMS_PATIENT_ANY",
    "ALARMS_WARD_ANY",
    "FHIR_SUBSCRIPTIONS_CHANGED",
    "FHIR_SUBSCRIPTION_ANY",
    "IDENTITY_SESSIONS",
    "NEWS2_PATIENT_ANY",
    "NEWS2_WARD_ANY",
    "NOTIFICATIONS_USER_ANY",
    "VITALS_ANY",
    "VITALS_WARD_ANY",
    "Alarm",
    "AlarmMessage",
    "ChannelName",
    "ConsultRelay",
    "DeviceEvent",
    "DeviceReadings",
    "DeviceStatus",
    "FhirBundle",
    "News2Score",
    "Notification",
    "Reading",
    "SessionsEnded",
    "SubscriptionsChanged",
    "WardReadings",
    "alarms_patient",
    "alarms_ward",
    "consult_instance",
    "decode_payload",
    "devices_event",
    "devices_status",
    "encode_payload",
    "fhir_subscription",
    "news2_patient",
    "news2_ward",
    "notifications_user",
    "parse_channel",
    "vitals_device",
    "vitals_patient",
    "vitals_ward",
]
