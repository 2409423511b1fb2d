"""The wire format is strict, and the fast decoder (msgspec) and the protocol model (pydantic) agree.

Each case says what the platform must do with the payload: accept it, or refuse it with a reason
code. Every case runs through the protocol's `decode_vitals`, the worker's `VitalsDecoder`, and the
decoder's fast path alone, which may only accept what the protocol accepts (with the same result) or
hand the payload over.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devices.ingest.classify import reason_code
from devices.ingest.decode import VitalsDecoder
from devices.protocol import (
    MAX_SEQ,
    DeviceMessageError,
    StatusMessage,
    ack_payloads,
    decode_ack,
    decode_event,
    decode_status,
    decode_vitals,
    seq_ranges,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
OLDEST = NOW - timedelta(days=30)
OK = "ok"


def _reading(**changes: Any) -> dict[str, Any]:
    return {"metric": "hr", "value": 72, "unit": "/min", "time": "2026-11-23T09:59:59.250Z", **changes}


def _payload(*readings: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"v": 1, "seq": 7, "readings": list(readings), **top}).encode()


# name: (payload, what must happen: OK or the dead-letter reason code)
CASES: dict[str, tuple[bytes, str]] = {
    "plain": (_payload(_reading(), _reading(metric="spo2", value=97.5, unit="%")), OK),
    "loinc code": (_payload(_reading(metric="8867-4")), OK),
    "integer value": (_payload(_reading(value=72)), OK),
    "kPa converted": (_payload(_reading(metric="sbp", value=16, unit="kPa")), OK),
    "fahrenheit converted": (_payload(_reading(metric="temp", value=98.6, unit="[degF]")), OK),
    "rounded to 4 places": (_payload(_reading(value=72.123456789)), OK),
    "range edges": (
        _payload(_reading(value=0), _reading(value=350), _reading(metric="sbp", value=20, unit="mm[Hg]")),
        OK,
    ),
    "over range": (_payload(_reading(value=350.0001)), "impossible-value"),
    "under range": (_payload(_reading(metric="weight", value=0.1, unit="kg")), "impossible-value"),
    "converted over range": (_payload(_reading(metric="temp", value=120, unit="[degF]")), "impossible-value"),
    "huge number": (
        b'{"v":1,"seq":1,"readings":[{"metric":"hr","value":1e999,"unit":"/min","time":"2026-11-23T09:00:00Z"}]}',
        "invalid",
    ),
    # Numbers are JSON numbers: no boolean, string or null stands for one.
    "value false": (_payload(_reading(value=False)), "invalid"),
    "value true": (_payload(_reading(value=True)), "invalid"),
    "value as string": (_payload(_reading(value="80")), "invalid"),
    "value null": (_payload(_reading(value=None)), "invalid"),
    "value NaN": (
        b'{"v":1,"seq":1,"readings":[{"metric":"hr","value":NaN,"unit":"/min","time":"2026-11-23T09:00:00Z"}]}',
        "invalid",  # pydantic reads NaN, then refuses it as not finite; msgspec refuses the JSON
    ),
    "seq as string": (_payload(_reading(), seq="7"), "invalid"),
    "seq true": (_payload(_reading(), seq=True), "invalid"),
    "seq as float": (_payload(_reading(), seq=7.0), "invalid"),
    "seq at the largest": (_payload(_reading(), seq=MAX_SEQ), OK),
    "seq past the largest": (_payload(_reading(), seq=MAX_SEQ + 1), "invalid"),
    "negative seq": (_payload(_reading(), seq=-1), "invalid"),
    "version true": (_payload(_reading(), v=True), "invalid"),
    "version as float": (_payload(_reading(), v=1.0), "invalid"),
    "version 2": (_payload(_reading(), v=2), "invalid"),
    # Times are RFC 3339 strings with an offset.
    "offset time": (_payload(_reading(time="2026-11-23T11:59:59+02:00")), OK),
    "lower-case t and z": (_payload(_reading(time="2026-11-23t09:59:59z")), OK),
    "nanoseconds": (_payload(_reading(time="2026-11-23T09:59:59.123456789Z")), OK),
    "time as Unix seconds": (_payload(_reading(time=1763891999)), "invalid"),
    "naive time": (_payload(_reading(time="2026-11-23T09:59:59")), "invalid"),
    "date only": (_payload(_reading(time="2026-11-23")), "invalid"),
    "space separator": (_payload(_reading(time="2026-11-23 09:59:59Z")), "invalid"),
    "hours-only offset": (_payload(_reading(time="2026-11-23T09:59:59+02")), "invalid"),
    "week date": (_payload(_reading(time="2026-W47-1T09:59:59Z")), "invalid"),
    "impossible date": (_payload(_reading(time="2026-02-30T10:00:00Z")), "invalid"),
    "leap second": (_payload(_reading(time="2026-06-30T23:59:60Z")), "invalid"),
    "future": (_payload(_reading(time="2026-11-23T10:06:00Z")), "future-time"),
    "just within the clock margin": (_payload(_reading(time="2026-11-23T10:04:59Z")), OK),
    "as old as accepted": (_payload(_reading(time="2026-10-24T10:00:00Z")), OK),
    "older than accepted": (_payload(_reading(time="2026-10-24T09:59:59Z")), "too-old"),
    "1970": (_payload(_reading(time="1970-01-01T00:00:00Z")), "too-old"),
    "one old reading among new": (
        _payload(_reading(), _reading(metric="spo2", value=97, unit="%", time="2025-11-23T10:00:00Z")),
        "too-old",
    ),
    "wrong unit": (_payload(_reading(unit="%")), "invalid"),
    "unknown metric": (_payload(_reading(metric="glucose")), "invalid"),
    "extra field": (_payload(_reading(extra=1)), "invalid"),
    "extra top field": (_payload(_reading(), note="x"), "invalid"),
    "no readings": (_payload(), "invalid"),
    "not json": (b"{nope", "malformed"),
    "not an object": (b"[1, 2]", "malformed"),
}


def _verdict(decode: Any) -> Any:
    try:
        return decode()
    except DeviceMessageError as error:
        return reason_code(error.reason), error.reason


@pytest.mark.parametrize(("payload", "expected"), CASES.values(), ids=CASES.keys())
def test_the_protocol_and_the_fast_decoder_agree_on_every_case(payload: bytes, expected: str) -> None:
    by_protocol = _verdict(lambda: decode_vitals(payload, now=NOW, oldest=OLDEST))
    by_decoder = _verdict(lambda: VitalsDecoder().decode(payload, now=NOW, oldest=OLDEST))
    fast = VitalsDecoder().fast_path(payload, NOW, OLDEST)
    if expected == OK:
        readings = [(r.metric, r.value, r.unit, r.time) for r in by_protocol.readings]
        assert by_decoder == (by_protocol.seq, readings)
        assert all(at.tzinfo is UTC for *_rest, at in readings)
    else:
        assert by_protocol[0] == expected, by_protocol
        assert by_decoder == by_protocol  # the same code and the same words
        assert fast is None  # the fast path never accepts what the protocol refuses
    assert fast is None or fast == by_decoder


def test_plain_messages_take_the_fast_path() -> None:
    assert VitalsDecoder().fast_path(CASES["plain"][0], NOW) is not None
    assert VitalsDecoder().fast_path(CASES["lower-case t and z"][0], NOW) is not None


@pytest.mark.parametrize(
    "body",
    [
        {"online": "true", "time": "2026-11-23T10:00:00Z"},
        {"online": 1, "time": "2026-11-23T10:00:00Z"},
        {"online": True, "time": 1763892000},
        {"online": True, "time": "2026-11-23T10:00:00Z", "battery_pct": "50"},
        {"online": True, "time": "2026-11-23T10:00:00Z", "battery_pct": 50.0},
        {"online": True, "time": "2026-11-23T10:00:00Z", "sensor_off": 0},
        {"online": True, "time": "2026-11-23T10:00:00Z", "seq": "3"},
    ],
)
def test_status_messages_are_as_strict(body: dict[str, Any]) -> None:
    with pytest.raises(DeviceMessageError):
        decode_status(json.dumps({"v": 1, **body}).encode())


def test_a_status_may_carry_a_seq_and_events_must() -> None:
    status = decode_status(b'{"v":1,"seq":12,"online":true,"time":"2026-11-23T10:00:00+01:00"}')
    assert (status.seq, status.time) == (12, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert StatusMessage(online=True, time=NOW).seq is None
    with pytest.raises(DeviceMessageError, match="seq"):
        decode_event(b'{"v":1,"time":"2026-11-23T10:00:00Z","code":"lead_off"}')


def test_acknowledgements_name_exactly_the_committed_seqs() -> None:
    assert seq_ranges([9, 3, 5, 4, 4, 11, 10]) == [(3, 5), (9, 11)]
    [payload] = ack_payloads([9, 3, 5, 4, 11, 10])
    assert payload == b'{"v":1,"seq":11,"seqs":[[3,5],[9,11]]}'
    ack = decode_ack(payload)
    assert [seq for seq in range(15) if ack.covers(seq)] == [3, 4, 5, 9, 10, 11]
    # Seqs of two workers interleave: more ranges than one message holds go in several.
    payloads = ack_payloads(range(0, 4000, 2))
    assert len(payloads) == 2
    assert sum(len(decode_ack(p).seqs) for p in payloads) == 2000


@pytest.mark.parametrize(
    "payload",
    [b'{"v":1,"seq":5,"seqs":[[5,3]]}', b'{"v":1,"seq":9,"seqs":[[3,5]]}', b'{"v":1,"seq":5,"seqs":[]}'],
)
def test_inconsistent_acknowledgements_are_refused(payload: bytes) -> None:
    with pytest.raises(DeviceMessageError):
        decode_ack(payload)
