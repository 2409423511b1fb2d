"""Decoding vitals payloads fast, with `devices.protocol` as the authority.

Profiling the worker showed pydantic validation of `VitalsMessage` costing ~8 µs per reading on this
class of machine, the largest share of a worker's CPU at tens of thousands of readings per second.
`VitalsDecoder.decode` first tries a strict fast path (msgspec parses the JSON into typed structs
in C, as strictly as the protocol: no string or boolean for a number; a short loop applies the
protocol's metric, unit, range and time rules, reading times with the protocol's own parser) that
accepts only the plainest well-formed messages, at ~1.5 µs per reading. Anything it is not certain about, valid or not, goes
through `protocol.decode_vitals`, which decides and words the error. The fast path therefore never
accepts what the protocol refuses, and every refusal carries the protocol's own reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from devices.protocol import (
    MAX_CLOCK_AHEAD,
    MAX_PAYLOAD_BYTES,
    MAX_READINGS_PER_MESSAGE,
    MAX_SEQ,
    METRICS_BY_KEY,
    decode_vitals,
    parse_wire_time,
)

# (LOINC code, value in the stored unit, stored unit, time in UTC)
DecodedReading = tuple[str, float, str, datetime]


# Known metric keys and units as literals: msgspec then returns its own interned strings, whose hashes
# are cached, and refuses anything else (which the protocol then words).
_MetricKey = Literal[tuple(METRICS_BY_KEY)]  # type: ignore[valid-type]
_UNITS = sorted({u for s in METRICS_BY_KEY.values() for u in (s.unit, *(c[0] for c in s.conversions))})
_UnitKey = Literal[tuple(_UNITS)]  # type: ignore[valid-type]


class _Reading(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    # Built at import from the metric table, so mypy cannot read them as types; msgspec can.
    metric: _MetricKey  # type: ignore[valid-type]
    value: float
    unit: _UnitKey  # type: ignore[valid-type]
    time: str


class _Message(msgspec.Struct, forbid_unknown_fields=True):
    seq: int
    readings: list[_Reading]
    v: Literal[1] = 1


# (metric as sent, unit as sent) -> (LOINC code, stored unit, factor or None, offset, minimum, maximum):
# one dictionary lookup decides the metric, the unit and the conversion of a reading.
_Rule = tuple[str, str, float | None, float, float, float]
_RULES: dict[tuple[str, str], _Rule] = {}
for _key, _spec in METRICS_BY_KEY.items():
    _RULES[_key, _spec.unit] = (_spec.code, _spec.unit, None, 0.0, _spec.minimum, _spec.maximum)
    for _unit, _factor, _offset in _spec.conversions:
        _RULES[_key, _unit] = (_spec.code, _spec.unit, _factor, _offset, _spec.minimum, _spec.maximum)


class VitalsDecoder:
    """Decodes vitals payloads; one per worker (msgspec decoders are built once and reused)."""

    def __init__(self) -> None:
        self._decoder = msgspec.json.Decoder(_Message)

    def decode(
        self, payload: bytes, *, now: datetime, oldest: datetime | None = None
    ) -> tuple[int, list[DecodedReading]]:
        """The seq and normalised readings of a vitals payload, or DeviceMessageError with the protocol's reason.

        Readings before `oldest` or more than the clock margin after `now` refuse the message.
        """
        decoded = self.fast_path(payload, now, oldest)
        if decoded is not None:
            return decoded
        message = decode_vitals(payload, now=now, oldest=oldest)
        return message.seq, [(r.metric, r.value, r.unit, r.time) for r in message.readings]

    def fast_path(
        self, payload: bytes, now: datetime, oldest: datetime | None = None
    ) -> tuple[int, list[DecodedReading]] | None:
        """Seq and readings when the payload is certainly valid; None whenever the protocol must decide."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            return None
        try:
            message = self._decoder.decode(payload)
        except msgspec.DecodeError:
            return None
        if not 0 <= message.seq <= MAX_SEQ or not 1 <= len(message.readings) <= MAX_READINGS_PER_MESSAGE:
            return None
        latest = now + MAX_CLOCK_AHEAD
        # The readings of one message mostly share a few instants: each is parsed once.
        times: dict[str, datetime] = {}
        readings: list[DecodedReading] = []
        append, rules = readings.append, _RULES
        # One loop, no call per reading: this runs for every value the platform receives.
        for item in message.readings:
            rule = rules.get((item.metric, item.unit))
            if rule is None:
                return None
            code, unit, factor, offset, minimum, maximum = rule
            value = item.value if factor is None else item.value * factor + offset
            # Also false for NaN; infinities are outside every range.
            if not minimum <= value <= maximum:
                return None
            moment = times.get(item.time)
            if moment is None:
                # The protocol's own parser: both read every time string the same way.
                moment = parse_wire_time(item.time)
                if moment is None or moment > latest or (oldest is not None and moment < oldest):
                    return None
                times[item.time] = moment
            # round() is the costliest step left; a whole number is already what it would return.
            append((code, value if value.is_integer() else round(value, 4), unit, moment))
        return message.seq, readings
