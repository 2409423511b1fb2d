"""Vital-sign Observations from devices: readings attributed to the patient at ingest.

The devices domain maps a reading to its Observation (`devices.vitals.fhir`). Its id here spells the
reading's natural key, so it can be read back: `<time in microseconds, base 36>.<LOINC code>.<device>`,
where <device> is the device id when it is a valid FHIR id part, or `-` and a hash of it otherwise
(then the id finds the readings of that metric at that instant and the hash picks the device).
Readings are many: they take part in a search only when it is about one patient (a patient's own
search always is), never in an organisation-wide one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import base36
from clinical.fhir.resources.observation_lab import observation_parameters
from clinical.fhir.search.request import SearchParameter, SearchRequest
from clinical.fhir.search.values import ParamType, TokenValue
from core.errors import NotFound
from core.principal import Principal
from devices.protocol import METRICS_BY_KEY
from devices.registry import Device
from devices.vitals import VitalReading, reading_observation

_DEVICE_PART = re.compile(r"^[A-Za-z0-9-]{1,40}$")
# Device ids begin with a letter or digit (devices.protocol), so a leading "-" marks a hash.
_HASHED = "-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReadingKey:
    time: datetime
    metric: str
    device: str  # the device id, or `h<hash>` of it

    def matches(self, device_id: str) -> bool:
        return self.device in (device_id, _device_hash(device_id))


def _device_hash(device_id: str) -> str:
    return _HASHED + hashlib.sha256(device_id.encode()).hexdigest()[:16]


def reading_id(time: datetime, metric: str, device_id: str) -> str:
    """The readable id of a reading's Observation (at most 64 characters, FHIR's limit)."""
    micros = (time - _EPOCH) // timedelta(microseconds=1)
    device = device_id if _DEVICE_PART.match(device_id) else _device_hash(device_id)
    return f"{base36(micros)}.{metric}.{device}"


def parse_reading_id(text: str) -> ReadingKey | None:
    """The key a reading id spells, or None if it is not one."""
    parts = text.split(".")
    if len(parts) != 3 or parts[1] not in METRICS_BY_KEY or not _DEVICE_PART.match(parts[2]):
        return None
    try:
        time = _EPOCH + timedelta(microseconds=int(parts[0], 36))
    except (ValueError, OverflowError):
        return None
    return ReadingKey(time, parts[1], parts[2])


def _id_clause(values: list[Any]) -> ColumnElement[bool]:
    keys = [parse_reading_id(v.code) for v in values if isinstance(v, TokenValue) and v.code]
    matches = [
        and_(
            VitalReading.time == key.time,
            VitalReading.metric == key.metric,
            true() if key.device.startswith(_HASHED) else VitalReading.device_id == key.device,
        )
        for key in keys
        if key is not None
    ]
    return or_(*matches) if matches else false()


class DeviceVitalSource(TableProvider):
    resource_type = "Observation"
    model = VitalReading
    dated_by = VitalReading.time
    # Newest first: `$everything` keeps the most recent readings within its per-type limit.
    order = (VitalReading.time.desc(), VitalReading.device_id)

    def tiebreak(self) -> Any:
        return VitalReading.metric

    def last_changed(self) -> Any:
        return VitalReading.time  # readings never change

    def patient_column(self) -> Any:
        return VitalReading.patient_id

    def applies(self, request: SearchRequest, principal: Principal) -> bool:
        return not principal.sees_every_patient(self.resource_type) or bool(
            request.values_of("patient") or request.values_of("subject")
        )

    def base_query(self, principal: Principal) -> Select[Any]:
        return select(VitalReading).where(VitalReading.patient_id.is_not(None))

    def parameters(self) -> Mapping[str, SearchParameter]:
        return {
            "_id": SearchParameter("_id", ParamType.TOKEN, "Logical id", _id_clause),
            **self.search_parameters(),
        }

    def search_parameters(self) -> dict[str, SearchParameter]:
        return observation_parameters(
            VitalReading.patient_id, VitalReading.metric, VitalReading.time, "vital-signs"
        )

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        key = parse_reading_id(resource_id)
        rows = []
        if key is not None:
            query = self.base_query(ctx.principal).where(
                VitalReading.time == key.time, VitalReading.metric == key.metric
            )
            rows = [row for row in await ctx.session.scalars(query) if key.matches(row.device_id)]
        if not rows:
            raise NotFound(f"There is no Observation with id '{resource_id}'.")
        return self.owned(ctx, (await self.render(ctx, rows[:1]))[0])

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        wire_ids = {row.device_id for row in rows}
        registered: dict[str, Any] = {}
        if wire_ids:
            found = await ctx.session.execute(
                select(Device.device_id, Device.id).where(Device.device_id.in_(wire_ids))
            )
            registered = {device_id: device_uuid for device_id, device_uuid in found}
        return [
            Rendered(_observation(row, registered.get(row.device_id)), row.patient_id, versioned=False)
            for row in rows
        ]


def _observation(row: VitalReading, device_uuid: Any = None) -> dict[str, Any]:
    assert row.patient_id is not None  # base_query serves attributed readings only
    resource = reading_observation(
        patient_id=row.patient_id,
        metric=row.metric,
        value=row.value,
        unit=row.unit,
        time=row.time,
        device_id=row.device_id,
    )
    # A reading never changes after it is stored: it was last updated when it was measured.
    meta = {**resource["meta"], "lastUpdated": row.time.isoformat()}
    if device_uuid is not None:
        # The registered device as a FHIR Device, beside its wire id.
        resource["device"] = {"reference": f"Device/{device_uuid}", **resource["device"]}
    return {**resource, "id": reading_id(row.time, row.metric, row.device_id), "meta": meta}
