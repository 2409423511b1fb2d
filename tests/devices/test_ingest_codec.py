"""The worker's fast paths agree with their authorities: the decoder with the protocol, COPY rows with PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from devices.ingest.batch import WriteBatch
from devices.ingest.decode import VitalsDecoder
from devices.ingest.store import PostgresStore
from devices.protocol import ProtocolError, decode_vitals

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _reading(**changes: Any) -> dict[str, Any]:
    return {"metric": "hr", "value": 72, "unit": "/min", "time": "2026-11-23T09:59:59.250Z", **changes}


def _payload(*readings: dict[str, Any], **top: Any) -> bytes:
    return json.dumps({"v": 1, "seq": 7, "readings": list(readings), **top}).encode()


# Each payload is valid or not; the decoder must give exactly what the protocol gives.
CASES = {
    "plain": _payload(_reading(), _reading(metric="spo2", value=97.5, unit="%")),
    "loinc code": _payload(_reading(metric="8867-4")),
    "kPa converted": _payload(_reading(metric="sbp", value=16, unit="kPa")),
    "fahrenheit converted": _payload(_reading(metric="temp", value=98.6, unit="[degF]")),
    "rounded to 4 places": _payload(_reading(value=72.123456789)),
    "offset time": _payload(_reading(time="2026-11-23T11:59:59+02:00")),
    "range edges": _payload(
        _reading(value=0), _reading(value=350), _reading(metric="sbp", value=20, unit="mm[Hg]")
    ),
    "over range": _payload(_reading(value=350.0001)),
    "under range": _payload(_reading(metric="weight", value=0.1, unit="kg")),
    "converted over range": _payload(_reading(metric="temp", value=120, unit="[degF]")),
    "huge number": b'{"v":1,"seq":1,"readings":[{"metric":"hr","value":1e999,"unit":"/min","time":"2026-11-23T09:00:00Z"}]}',
    "value as string": _payload(_reading(value="72")),
    "value as bool": _payload(_reading(value=True)),
    "wrong unit": _payload(_reading(unit="%")),
    "unknown metric": _payload(_reading(metric="glucose")),
    "naive time": _payload(_reading(time="2026-11-23T09:59:59")),
    "date only": _payload(_reading(time="2026-11-23")),
    "space separator": _payload(_reading(time="2026-11-23 09:59:59Z")),
    "future": _payload(_reading(time="2026-11-23T10:06:00Z")),
    "just within the clock margin": _payload(_reading(time="2026-11-23T10:04:59Z")),
    "impossible date": _payload(_reading(time="2026-02-30T10:00:00Z")),
    "extra field": _payload(_reading(extra=1)),
    "extra top field": _payload(_reading(), note="x"),
    "version 2": _payload(_reading(), v=2),
    "negative seq": _payload(_reading(), seq=-1),
    "no readings": _payload(),
    "not json": b"{nope",
    "not an object": b"[1, 2]",
}


@pytest.mark.parametrize("payload", CASES.values(), ids=CASES.keys())
def test_the_fast_decoder_agrees_with_the_protocol(payload: bytes) -> None:
    try:
        expected: Any = [
            (r.metric, r.value, r.unit, r.time) for r in decode_vitals(payload, now=NOW).readings
        ]
    except ProtocolError as error:
        expected = ("refused", error.reason)
    try:
        decoded: Any = VitalsDecoder().decode(payload, now=NOW)
    except ProtocolError as error:
        decoded = ("refused", error.reason)
    assert decoded == expected
    if isinstance(decoded, list):
        assert all(at.tzinfo is UTC for _m, _v, _u, at in decoded)


def test_plain_messages_take_the_fast_path() -> None:
    assert VitalsDecoder()._fast_path(CASES["plain"], NOW) is not None
    assert VitalsDecoder()._fast_path(CASES["value as string"], NOW) is None


async def test_binary_copy_rows_arrive_as_written(postgres_url: str) -> None:
    """Rows encoded by `pgcopy` read back from PostgreSQL exactly: times, ids, NULL patients, floats."""
    device_id = f"t-codec-{uuid.uuid4().hex[:8]}"
    patient = uuid.uuid4()
    base = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
    rows = [
        (base, device_id, patient, "8867-4", 72.0, "/min"),
        (base, device_id, patient, "59408-5", 97.25, "%"),
        (base + timedelta(seconds=1), device_id, None, "8867-4", 73.5, "/min"),
        (base + timedelta(days=-1), device_id, patient, "8310-5", 37.0001, "Cel"),
        (datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), device_id, None, "8867-4", 0.1, "/min"),
    ]
    store = PostgresStore(postgres_url)
    try:
        assert await store.write(WriteBatch(readings=rows)) == len(rows)
        # The same rows again: the key refuses them, the staging path stores nothing twice.
        assert await store.write(WriteBatch(readings=rows)) == 0
    finally:
        await store.close()
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        cursor = await connection.execute(
            "SELECT time, device_id, patient_id, metric, value, unit FROM vital_readings WHERE device_id = %s ORDER BY time, metric",
            (device_id,),
        )
        stored = await cursor.fetchall()
    assert stored == sorted(rows, key=lambda r: (r[0], r[3]))
