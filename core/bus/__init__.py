"""The publish/subscribe bus: Redis pub/sub across processes, or in-process in the embedded mode.

Messages are JSON objects delivered at most once, in publish order per channel, to whoever is
subscribed at that moment; nothing is stored. A subscription that may have missed messages says so
with a `resync` marker, after which the consumer reloads its state from the database.

The contract (`core.bus.channels`, re-exported here): every channel's name builder and pattern,
`parse_channel`, and each payload's msgspec struct with `encode_payload`/`decode_payload`; one
reading is a `Reading` everywhere on the bus. Beside the buses: `encode_message`/`encode_each` (the
JSON every message travels as) and `reconnect_delay_s`, the backoff every long-lived connection
(Redis, MQTT, sockets) reconnects with.
"""

from __future__ import annotations

from core.bus.backoff import reconnect_delay_s
from core.bus.channels import (
    ALARMS_ESCALATION,
    ALARMS_EVALUATION,
    ALARMS_PATIENT_ANY,
    ALARMS_WARD_ANY,
    FHIR_SUBSCRIPTION_ANY,
    FHIR_SUBSCRIPTIONS_CHANGED,
    IDENTITY_SESSIONS,
    NEWS2_PATIENT_ANY,
    NEWS2_WARD_ANY,
    NOTIFICATIONS_USER_ANY,
    VITALS_ANY,
    VITALS_WARD_ANY,
    Alarm,
    AlarmMessage,
    ChannelName,
    ConsultRelay,
    DeviceEvent,
    DeviceReadings,
    DeviceStatus,
    EvaluatorBeat,
    FhirBundle,
    News2Score,
    Notification,
    Reading,
    SessionsEnded,
    SubscriptionsChanged,
    WardReadings,
    alarms_patient,
    alarms_ward,
    consult_instance,
    decode_payload,
    devices_event,
    devices_status,
    encode_payload,
    fhir_subscription,
    news2_patient,
    news2_ward,
    notifications_user,
    parse_channel,
    vitals_device,
    vitals_patient,
    vitals_ward,
)
from core.bus.inprocess import InProcessBus, InProcessSubscription
from core.bus.interface import (
    Bus,
    BusClosedError,
    BusMessage,
    Message,
    Subscription,
    encode_each,
    encode_message,
)
from core.bus.redis_bus import RedisBus
from core.bus.redis_subscription import RedisSubscription, SubscriptionTuning

__all__ = [
    "ALARMS_ESCALATION",
    "ALARMS_EVALUATION",
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
    "Bus",
    "BusClosedError",
    "BusMessage",
    "ChannelName",
    "ConsultRelay",
    "DeviceEvent",
    "DeviceReadings",
    "DeviceStatus",
    "EvaluatorBeat",
    "FhirBundle",
    "InProcessBus",
    "InProcessSubscription",
    "Message",
    "News2Score",
    "Notification",
    "Reading",
    "RedisBus",
    "RedisSubscription",
    "SessionsEnded",
    "Subscription",
    "SubscriptionTuning",
    "SubscriptionsChanged",
    "WardReadings",
    "alarms_patient",
    "alarms_ward",
    "consult_instance",
    "create_bus",
    "decode_payload",
    "devices_event",
    "devices_status",
    "encode_each",
    "encode_message",
    "encode_payload",
    "fhir_subscription",
    "news2_patient",
    "news2_ward",
    "notifications_user",
    "parse_channel",
    "reconnect_delay_s",
    "vitals_device",
    "vitals_patient",
    "vitals_ward",
]


def create_bus(*, redis_url: str | None, key_prefix: str, tuning: SubscriptionTuning | None = None) -> Bus:
    """Returns a RedisBus when a URL is given, otherwise an InProcessBus (the embedded mode)."""
    if redis_url:
        return RedisBus(redis_url, key_prefix, tuning=tuning)
    return InProcessBus()
