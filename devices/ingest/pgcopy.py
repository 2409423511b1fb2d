"""PostgreSQL's binary COPY format for reading rows, built here rather than field by field in psycopg.

psycopg's `write_row` adapts every field of every row through its dumpers and awaits once per row;
for the ingest's narrow rows that cost more than the rest of the worker's PostgreSQL work. The
fields here are few and fixed, and most repeat: a message's readings share a device, a patient and
a few instants, and metrics and units come from a short list. So each distinct field is encoded
once into its wire bytes (length prefix included) and a row is a few concatenations plus one
packed float. Format: https://www.postgresql.org/docs/current/sql-copy.html (binary format).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from devices.ingest.batch import ReadingRow

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # no flags, no header extension
TRAILER = struct.pack(">h", -1)
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Field count of a row, then the length of its first field (the time, an int64).
_ROW_START = struct.pack(">hi", 6, 8)
_TIME = struct.Struct(">q")
_FLOAT = struct.Struct(">id")  # length 8, then the IEEE 754 double
_NULL = struct.pack(">i", -1)
# Texts (device ids, metrics, units) and device-patient pairs seen so far; bounded, then started afresh.
_CACHE_LIMIT = 100_000


def _text(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">i", len(data)) + data


def _uuid(value: uuid.UUID | None) -> bytes:
    return _NULL if value is None else struct.pack(">i", 16) + value.bytes


class BinaryRows:
    """Encodes reading rows for `COPY vital_readings (time, device_id, patient_id, metric, value, unit)`."""

    def __init__(self) -> None:
        self._texts: dict[str, bytes] = {}
        self._owners: dict[tuple[str, uuid.UUID | None], bytes] = {}

    def encode(self, rows: Iterable[ReadingRow]) -> bytearray:
        """The whole COPY stream (signature, rows, trailer) of `rows`."""
        if len(self._texts) > _CACHE_LIMIT or len(self._owners) > _CACHE_LIMIT:
            self._texts.clear()
            self._owners.clear()
        texts, owners, pack_value = self._texts, self._owners, _FLOAT.pack
        stamps: dict[datetime, bytes] = {}
        out = bytearray(SIGNATURE)
        # Rows come message by message: consecutive rows mostly share the device, the patient and
        # the instant, which identity comparisons notice more cheaply than hashing.
        last_at: datetime | None = None
        last_device: str | None = None
        last_patient: uuid.UUID | None = None
        stamp = owner = b""
        for at, device_id, patient_id, metric, value, unit in rows:
            if at is not last_at:
                last_at, stamp = at, stamps.get(at, b"")
                if not stamp:
                    stamp = stamps[at] = _ROW_START + _TIME.pack((at - _POSTGRES_EPOCH) // _MICROSECOND)
            if device_id is not last_device or patient_id is not last_patient:
                last_device, last_patient = device_id, patient_id
                owner = owners.get((device_id, patient_id), b"")
                if not owner:
                    owner = owners[device_id, patient_id] = _text(device_id) + _uuid(patient_id)
            out += stamp
            out += owner
            out += texts.get(metric) or texts.setdefault(metric, _text(metric))
            out += pack_value(8, value)
            out += texts.get(unit) or texts.setdefault(unit, _text(unit))
        out += TRAILER
        return out
