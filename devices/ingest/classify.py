"""Deciding what a received message is: readings, a status, an event, or a dead letter and why."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from devices.ingest.batch import Classified, Received
from devices.ingest.decode import VitalsDecoder
from devices.protocol import (
    MAX_CLOCK_AHEAD,
    MAX_PAYLOAD_BYTES,
    MAX_SEQ,
    DeviceMessageError,
    decode_event,
    decode_status,
    parse_topic,
)

# Dead-letter reason codes: stable, few, used as a metric label; the row keeps the full reason.
BAD_TOPIC = "bad-topic"
OVERSIZE = "oversize"
MALFORMED = "malformed"
INVALID = "invalid"
IMPOSSIBLE_VALUE = "impossible-value"
FUTURE_TIME = "future-time"
TOO_OLD = "too-old"
BEFORE_REGISTRATION = "before-registration"
UNKNOWN_DEVICE = "unknown-device"


class _SeqOnly(msgspec.Struct):
    seq: int


class Classifier:
    """Decodes messages with the protocol's rules; holds the decoder that is reused for every message."""

    def __init__(self, *, max_reading_age: timedelta | None = None) -> None:
        self._vitals = VitalsDecoder()
        self._max_reading_age = max_reading_age
        self._seq_only = msgspec.json.Decoder(_SeqOnly)

    def classify(self, received: Received, *, now: datetime) -> Classified:
        """What the message carries, or a dead letter with its reason."""
        try:
            device_id, kind = parse_topic(received.topic)
        except DeviceMessageError as error:
            return Classified(received, "dead", reason_code=BAD_TOPIC, reason=error.reason)
        message = Classified(received, kind, device_id=device_id, topic_kind=kind)
        if len(received.payload) > MAX_PAYLOAD_BYTES:
            message.refuse(
                OVERSIZE, f"payload of {len(received.payload)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}"
            )
            return message
        try:
            if kind == "vitals":
                oldest = now - self._max_reading_age if self._max_reading_age is not None else None
                message.seq, message.readings = self._vitals.decode(received.payload, now=now, oldest=oldest)
            elif kind == "status":
                status = decode_status(received.payload)
                message.seq = status.seq
                message.body = {"device_id": device_id, **status.model_dump(exclude={"v", "seq"})}
            else:
                event = decode_event(received.payload)
                message.seq = event.seq
                message.body = {"device_id": device_id, **event.model_dump(exclude={"v"})}
        except DeviceMessageError as error:
            message.refuse(reason_code(error.reason), error.reason)
            # Kept as a dead letter, the message is committed too: its sender may let it go.
            message.seq = self._readable_seq(received.payload)
        return message

    def _readable_seq(self, payload: bytes) -> int | None:
        """The seq of a refused message, when it has a valid one; otherwise it cannot be acknowledged."""
        try:
            seq = self._seq_only.decode(payload).seq
        except msgspec.DecodeError:
            return None
        return seq if 0 <= seq <= MAX_SEQ else None


def refuse_if_before_registration(message: Classified, registered_at: datetime) -> None:
    """Dead-letters a message whose readings predate its device's registration (beyond clock drift)."""
    if not message.readings:
        return
    earliest = min(reading[3] for reading in message.readings)
    # A device's clock may run as far behind as the protocol lets it run ahead.
    if earliest < registered_at - MAX_CLOCK_AHEAD:
        message.refuse(
            BEFORE_REGISTRATION,
            f"a reading at {earliest.isoformat()} is older than the device's registration "
            f"({registered_at.isoformat(timespec='seconds')}): its clock is wrong, or it was not registered yet",
        )


def reason_code(reason: str) -> str:
    """The short code of a protocol error's reason."""
    if any(
        sign in reason for sign in ("Invalid JSON", "valid dictionary", "JSON input", "should be an object")
    ):
        return MALFORMED
    if "physiologically impossible" in reason:
        return IMPOSSIBLE_VALUE
    if "is in the future" in reason:
        return FUTURE_TIME
    if "is too old" in reason:
        return TOO_OLD
    return INVALID
