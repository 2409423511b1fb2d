"""The MQTT wire format between devices (or the edge gateway) and the platform, version 1.

Topics: `ownat/v1/devices/{device_id}/vitals` (readings), `.../status` (online, battery; retained)
and `.../events` (device alarms), from the device; `.../ack` (what the platform has committed;
retained), to the device. Payloads are UTF-8 JSON objects with `"v": 1`.

Types are strict: a number is a JSON number (never a string or a boolean), a time is an RFC 3339
string with an offset (`2026-11-23T10:15:00Z`, `...T11:15:00.250+01:00`), an integer is a JSON
integer. Anything else is refused with the reason, never coerced.

`seq` numbers a device's messages: one counter per device for its vitals, events and (if it gives
one) status messages, increasing by one per message and never reused in the device's life (keep it
across restarts, or restart it from a larger value, e.g. the Unix time in milliseconds). After the
platform has committed a message (its readings stored, or the message kept as a dead letter), it
publishes on `.../ack` the seqs committed, as inclusive ranges, and the highest of them:
`{"v": 1, "seq": 41, "seqs": [[38, 41]]}`. A sender keeps each message until an acknowledgement
names its seq, and sends it again when none has come after a while; storage ignores the copy.

Tracing (optional): over MQTT 5 a sender may add the user properties `traceparent` and `tracestate`
(W3C Trace Context) to a PUBLISH; the platform then continues that trace through storage to the
dashboards (docs/observability.md). They are never required, and a malformed one is ignored.

Every MQTT client of the platform (edge gateway, ingest workers, the broker probe and admin) is
given its broker as `mqtt://[user:password@]host[:port]` (`mqtts://` for TLS): `parse_mqtt_url`.

This module imports nothing from the platform and needs only pydantic, so the edge agent
can install it without the server's dependencies (the whole `devices.protocol` package keeps to that).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

PROTOCOL_VERSION: Final = 1
TOPIC_ROOT = "ownat/v1/devices"
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_READINGS_PER_MESSAGE = 500
# The largest integer every JSON parser keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER).
MAX_SEQ = 2**53 - 1
# Ranges in one acknowledgement; a commit that covers more is acknowledged in several messages.
MAX_ACK_RANGES = 1000
# Device clocks drift; anything further ahead than this is a clock fault, not a reading.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# RFC 3339's date-time (section 5.6): "T" and "Z" may be lower case; the offset is mandatory.
RFC3339_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
TIME_EXAMPLE = "2026-11-23T10:15:00Z"
TopicKind = Literal["vitals", "status", "events"]
ACK = "ack"
# Strict: no string, boolean or float is turned into what a field expects (see the module docstring).
_WIRE = ConfigDict(extra="forbid", strict=True)
_M = TypeVar("_M", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One FHIR vital sign: its LOINC code, a short alias, the stored unit and possible values."""

    code: str
    alias: str
    display: str
    unit: str
    # Other UCUM units accepted on the wire, with the factor and offset to the stored unit.
    conversions: tuple[tuple[str, float, float], ...]
    # Physiologically possible range (not a normal range): values outside it are device faults.
    minimum: float
    maximum: float

    def to_stored_unit(self, value: float, unit: str) -> float:
        if unit == self.unit:
            return value
        for other, factor, offset in self.conversions:
            if unit == other:
                return value * factor + offset
        accepted = ", ".join([self.unit, *(c[0] for c in self.conversions)])
        raise ValueError(f"unit {unit!r} is not accepted for {self.alias}; use one of: {accepted}")


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("8867-4", "hr", "Heart rate", "/min", (), 0, 350),
    MetricSpec("59408-5", "spo2", "Oxygen saturation by pulse oximetry", "%", (), 0, 100),
    MetricSpec("9279-1", "rr", "Respiratory rate", "/min", (), 0, 120),
    MetricSpec("8480-6", "sbp", "Systolic blood pressure", "mm[Hg]", (("kPa", 7.50062, 0.0),), 20, 300),
    MetricSpec("8462-4", "dbp", "Diastolic blood pressure", "mm[Hg]", (("kPa", 7.50062, 0.0),), 5, 250),
    MetricSpec("8310-5", "temp", "Body temperature", "Cel", (("[degF]", 5 / 9, -32 * 5 / 9),), 20, 46),
    # From bedside monitors (IHE PCD-01, see devices.pcd): mean arterial pressure, pulse rate from
    # the oximeter or the cuff (kept apart from the ECG's heart rate), end-tidal CO2.
    MetricSpec("8478-0", "map", "Mean blood pressure", "mm[Hg]", (("kPa", 7.50062, 0.0),), 10, 280),
    MetricSpec("8889-8", "pr", "Heart rate by Pulse oximetry", "/min", (), 0, 350),
    MetricSpec(
        "19891-1",
        "etco2",
        "Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration",
        "mm[Hg]",
        (("kPa", 7.50062, 0.0),),
        0,
        150,
    ),
    MetricSpec(
        "29463-7", "weight", "Body weight", "kg", (("g", 0.001, 0.0), ("[lb_av]", 0.45359237, 0.0)), 0.2, 650
    ),
)
METRICS_BY_KEY = {key: spec for spec in METRICS for key in (spec.code, spec.alias)}


def metric_spec(code_or_alias: str) -> MetricSpec:
    """The metric named by its LOINC code or alias."""
    try:
        return METRICS_BY_KEY[code_or_alias]
    except KeyError:
        known = ", ".join(f"{s.alias} ({s.code})" for s in METRICS)
        raise ValueError(f"unknown metric {code_or_alias!r}; known: {known}") from None


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"times must carry a timezone offset, e.g. {TIME_EXAMPLE}")
    return value.astimezone(UTC)


# For the API's own times (JSON bodies, query strings): any ISO 8601 form pydantic reads, with an offset.
AwareTime = Annotated[datetime, AfterValidator(_aware_utc)]


def parse_wire_time(stamp: str) -> datetime | None:
    """An RFC 3339 time with an offset, in UTC; None when `stamp` is not one (or not a real instant)."""
    if not RFC3339_TIME.fullmatch(stamp):
        return None
    try:
        return datetime.fromisoformat(stamp.upper()).astimezone(UTC)
    except (ValueError, OverflowError):  # 30 February, hour 24, a leap second, year 0
        return None


def _wire_time(value: object) -> object:
    if isinstance(value, datetime):
        return value  # built in Python (the edge's adapters); the offset is checked after
    if isinstance(value, str) and (parsed := parse_wire_time(value)) is not None:
        return parsed
    raise ValueError(f"time must be an RFC 3339 string with an offset, e.g. {TIME_EXAMPLE}")


def _version_1(value: object) -> object:
    # Literal[1] alone would take `true` and `1.0` as 1.
    if type(value) is not int or value != PROTOCOL_VERSION:
        raise ValueError(f"v must be the integer {PROTOCOL_VERSION}")
    return value


WireTime = Annotated[datetime, BeforeValidator(_wire_time), AfterValidator(_aware_utc)]
WireVersion = Annotated[Literal[1], BeforeValidator(_version_1)]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]


class Reading(BaseModel):
    """One measurement. On validation the metric becomes its LOINC code and the value its stored unit."""

    model_config = _WIRE

    metric: str = Field(max_length=32)
    value: float
    unit: str = Field(max_length=16)
    time: WireTime

    @model_validator(mode="after")
    def _normalise(self) -> Reading:
        if not math.isfinite(self.value):
            raise ValueError("value must be a finite number")
        spec = metric_spec(self.metric)
        value = spec.to_stored_unit(self.value, self.unit)
        if not spec.minimum <= value <= spec.maximum:
            raise ValueError(
                f"{spec.alias} {value:g} {spec.unit} is physiologically impossible "
                f"(accepted {spec.minimum:g}..{spec.maximum:g} {spec.unit})"
            )
        # Bypass validate_assignment recursion: these are already validated values.
        object.__setattr__(self, "metric", spec.code)
        object.__setattr__(self, "value", round(value, 4))
        object.__setattr__(self, "unit", spec.unit)
        return self


class VitalsMessage(BaseModel):
    """A batch of readings from one device; `seq` increases by one per message from that device."""

    model_config = _WIRE

    v: WireVersion = PROTOCOL_VERSION
    seq: Seq
    readings: list[Reading] = Field(min_length=1, max_length=MAX_READINGS_PER_MESSAGE)


class StatusMessage(BaseModel):
    """A device's state, published retained so a new subscriber learns it at once.

    `seq` is optional: given, the status is acknowledged like the device's other messages.
    """

    model_config = _WIRE

    v: WireVersion = PROTOCOL_VERSION
    seq: Seq | None = None
    online: bool
    time: WireTime
    battery_pct: int | None = Field(default=None, ge=0, le=100)
    sensor_off: bool = False
    firmware: str | None = Field(default=None, max_length=64)


class EventMessage(BaseModel):
    """A device's own alarm or technical event (lead off, low battery, self-test failed)."""

    model_config = _WIRE

    v: WireVersion = PROTOCOL_VERSION
    seq: Seq
    time: WireTime
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    severity: Literal["low", "medium", "high"] = "medium"
    detail: str | None = Field(default=None, max_length=500)


class AckMessage(BaseModel):
    """The platform's acknowledgement: the device's messages of these seqs are committed."""

    model_config = _WIRE

    v: WireVersion = PROTOCOL_VERSION
    seq: Seq = Field(description="the highest seq in `seqs`")
    seqs: list[tuple[Seq, Seq]] = Field(min_length=1, max_length=MAX_ACK_RANGES)

    @model_validator(mode="after")
    def _consistent(self) -> AckMessage:
        if any(first > last for first, last in self.seqs):
            raise ValueError("each range of seqs is [first, last] with first <= last")
        if self.seq != max(last for _first, last in self.seqs):
            raise ValueError("seq must be the highest seq in seqs")
        return self

    def covers(self, seq: int) -> bool:
        return any(first <= seq <= last for first, last in self.seqs)


class DeviceMessageError(ValueError):
    """A device message off the wire format (topic or payload); `reason` says why, for the dead-letter store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def topic_for(device_id: str, kind: TopicKind) -> str:
    return f"{TOPIC_ROOT}/{device_id}/{kind}"


def ack_topic(device_id: str) -> str:
    """Where the platform acknowledges the device's messages."""
    return f"{TOPIC_ROOT}/{device_id}/{ACK}"


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges of `seqs`: 3, 4, 5, 9 -> (3, 5), (9, 9)."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges


def ack_payloads(seqs: Iterable[int]) -> list[bytes]:
    """The acknowledgement(s) of `seqs`, oldest ranges first; several when the ranges do not fit one."""
    ranges = seq_ranges(seqs)
    # Written by hand, not through the model: ingest publishes one per device after every commit.
    return [
        b'{"v":1,"seq":%d,"seqs":[%s]}' % (chunk[-1][1], b",".join(b"[%d,%d]" % pair for pair in chunk))
        for chunk in (ranges[i : i + MAX_ACK_RANGES] for i in range(0, len(ranges), MAX_ACK_RANGES))
    ]


def decode_ack(payload: bytes) -> AckMessage:
    return _decode(AckMessage, payload)


def parse_topic(topic: str) -> tuple[str, TopicKind]:
    """The device id and message kind of a topic, or DeviceMessageError."""
    prefix = TOPIC_ROOT + "/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if (
        len(parts) != 2
        or parts[1] not in ("vitals", "status", "events")
        or not DEVICE_ID_PATTERN.match(parts[0])
    ):
        raise DeviceMessageError(f"topic {topic!r} is not {TOPIC_ROOT}/<device-id>/(vitals|status|events)")
    return parts[0], parts[1]  # type: ignore[return-value]


def decode_vitals(
    payload: bytes, *, now: datetime | None = None, oldest: datetime | None = None
) -> VitalsMessage:
    """Parses and validates a vitals payload; every failure is a DeviceMessageError with a readable reason.

    Readings more than `MAX_CLOCK_AHEAD` after `now`, or before `oldest`, refuse the whole message:
    a device whose clock is wrong is wrong about all of them.
    """
    message = _decode(VitalsMessage, payload)
    latest = (now or datetime.now(UTC)) + MAX_CLOCK_AHEAD
    for index, reading in enumerate(message.readings):
        if reading.time > latest:
            raise DeviceMessageError(f"readings[{index}].time {reading.time.isoformat()} is in the future")
        if oldest is not None and reading.time < oldest:
            raise DeviceMessageError(too_old_reason(index, reading.time, oldest))
    return message


def too_old_reason(index: int, time: datetime, oldest: datetime) -> str:
    """The reason given for a reading older than the oldest time accepted."""
    return (
        f"readings[{index}].time {time.isoformat()} is too old: "
        f"readings before {oldest.isoformat(timespec='seconds')} are not accepted"
    )


def decode_status(payload: bytes) -> StatusMessage:
    return _decode(StatusMessage, payload)


def decode_event(payload: bytes) -> EventMessage:
    return _decode(EventMessage, payload)


def encode(message: BaseModel) -> bytes:
    """The JSON bytes of a message, as devices send it."""
    return message.model_dump_json(exclude_none=True).encode()


def _decode(model: type[_M], payload: bytes) -> _M:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DeviceMessageError(f"payload of {len(payload)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}")
    try:
        return model.model_validate_json(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise DeviceMessageError(problems) from None


MQTT_DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class MqttAddress:
    """Where an MQTT client connects, and as whom."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @property
    def host_port(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttAddress:
    """Reads `mqtt://[user:pass@]host[:port]` (or `mqtts://` for TLS); ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in MQTT_DEFAULT_PORTS:
        raise ValueError(f"an MQTT URL starts with mqtt:// or mqtts://, not {parts.scheme or 'nothing'}")
    if not parts.hostname:
        raise ValueError(f"the MQTT URL {url!r} names no host")
    try:
        port = parts.port or MQTT_DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"the MQTT URL {url!r} has an invalid port") from None
    return MqttAddress(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "mqtts",
    )
