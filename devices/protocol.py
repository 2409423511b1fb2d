"""The MQTT wire format between devices (or the edge gateway) and the platform, version 1.

Topics: `ownat/v1/devices/{device_id}/vitals` (readings), `.../status` (online, battery;
retained) and `.../events` (device alarms). Payloads are UTF-8 JSON objects with `"v": 1`.

This module imports nothing from the platform and needs only pydantic, so the edge agent
can install it without the server's dependencies.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

PROTOCOL_VERSION: Final = 1
TOPIC_ROOT = "ownat/v1/devices"
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_READINGS_PER_MESSAGE = 500
# Device clocks drift; anything further ahead than this is a clock fault, not a reading.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TopicKind = Literal["vitals", "status", "events"]
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
        raise ValueError("times must carry a timezone offset, e.g. 2026-11-23T10:15:00Z")
    return value.astimezone(UTC)


AwareTime = Annotated[datetime, AfterValidator(_aware_utc)]


class Reading(BaseModel):
    """One measurement. On validation the metric becomes its LOINC code and the value its stored unit."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(max_length=32)
    value: float
    unit: str = Field(max_length=16)
    time: AwareTime

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

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = PROTOCOL_VERSION
    seq: int = Field(ge=0)
    readings: list[Reading] = Field(min_length=1, max_length=MAX_READINGS_PER_MESSAGE)


class StatusMessage(BaseModel):
    """A device's state, published retained so a new subscriber learns it at once."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = PROTOCOL_VERSION
    online: bool
    time: AwareTime
    battery_pct: int | None = Field(default=None, ge=0, le=100)
    sensor_off: bool = False
    firmware: str | None = Field(default=None, max_length=64)


class EventMessage(BaseModel):
    """A device's own alarm or technical event (lead off, low battery, self-test failed)."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = PROTOCOL_VERSION
    seq: int = Field(ge=0)
    time: AwareTime
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    severity: Literal["low", "medium", "high"] = "medium"
    detail: str | None = Field(default=None, max_length=500)


class ProtocolError(ValueError):
    """A message that does not follow the wire format; `reason` says why, for the dead-letter store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def topic_for(device_id: str, kind: TopicKind) -> str:
    return f"{TOPIC_ROOT}/{device_id}/{kind}"


def parse_topic(topic: str) -> tuple[str, TopicKind]:
    """The device id and message kind of a topic, or ProtocolError."""
    prefix = TOPIC_ROOT + "/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if (
        len(parts) != 2
        or parts[1] not in ("vitals", "status", "events")
        or not DEVICE_ID_PATTERN.match(parts[0])
    ):
        raise ProtocolError(f"topic {topic!r} is not {TOPIC_ROOT}/<device-id>/(vitals|status|events)")
    return parts[0], parts[1]  # type: ignore[return-value]


def decode_vitals(payload: bytes, *, now: datetime | None = None) -> VitalsMessage:
    """Parses and validates a vitals payload; every failure is a ProtocolError with a readable reason."""
    message = _decode(VitalsMessage, payload)
    latest = (now or datetime.now(UTC)) + MAX_CLOCK_AHEAD
    for index, reading in enumerate(message.readings):
        if reading.time > latest:
            raise ProtocolError(f"readings[{index}].time {reading.time.isoformat()} is in the future")
    return message


def decode_status(payload: bytes) -> StatusMessage:
    return _decode(StatusMessage, payload)


def decode_event(payload: bytes) -> EventMessage:
    return _decode(EventMessage, payload)


def encode(message: BaseModel) -> bytes:
    """The JSON bytes of a message, as devices send it."""
    return message.model_dump_json(exclude_none=True).encode()


def _decode(model: type[_M], payload: bytes) -> _M:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}")
    try:
        return model.model_validate_json(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in error.errors()[:5]
        )
        raise ProtocolError(problems) from None
