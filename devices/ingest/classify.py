"""Deciding what a received message is: readings, a status, an event, or a dead letter and why."""

from __future__ import annotations

from datetime import datetime

from devices.ingest.batch import Classified, Received
from devices.ingest.decode import VitalsDecoder
from devices.protocol import MAX_PAYLOAD_BYTES, ProtocolError, decode_event, decode_status, parse_topic

# Dead-letter reason codes: stable, few, used as a metric label; the row keeps the full reason.
BAD_TOPIC = "bad-topic"
OVERSIZE = "oversize"
MALFORMED = "malformed"
INVALID = "invalid"
IMPOSSIBLE_VALUE = "impossible-value"
FUTURE_TIME = "future-time"
UNKNOWN_DEVICE = "unknown-device"


class Classifier:
    """Decodes messages with the protocol's rules; holds the decoder that is reused for every message."""

    def __init__(self) -> None:
        self._vitals = VitalsDecoder()

    def classify(self, received: Received, *, now: datetime) -> Classified:
        """What the message carries, or a dead letter with its reason."""
        try:
            device_id, kind = parse_topic(received.topic)
        except ProtocolError as error:
            return Classified(received, "dead", reason_code=BAD_TOPIC, reason=error.reason)
        message = Classified(received, kind, device_id=device_id, topic_kind=kind)
        if len(received.payload) > MAX_PAYLOAD_BYTES:
            message.refuse(
                OVERSIZE, f"payload of {len(received.payload)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}"
            )
            return message
        try:
            if kind == "vitals":
                message.readings = self._vitals.decode(received.payload, now=now)
            elif kind == "status":
                status = decode_status(received.payload)
                message.body = {"device_id": device_id, **status.model_dump(exclude={"v"})}
            else:
                event = decode_event(received.payload)
                message.body = {"device_id": device_id, **event.model_dump(exclude={"v"})}
        except ProtocolError as error:
            message.refuse(reason_code(error.reason), error.reason)
        return message


def reason_code(reason: str) -> str:
    """The short code of a protocol error's reason."""
    if "Invalid JSON" in reason or "valid dictionary" in reason or "JSON input" in reason:
        return MALFORMED
    if "physiologically impossible" in reason:
        return IMPOSSIBLE_VALUE
    if "is in the future" in reason:
        return FUTURE_TIME
    return INVALID
