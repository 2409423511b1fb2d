"""Vital-sign Observations from devices: readings attributed to the patient at ingest.

The devices domain maps a reading to its Observation (`devices.vitals.fhir`); its id is a hash of the
reading's natural key (device, metric, time), so these Observations are found by search (and in
`$everything`) but cannot be read back by id. Readings are many: they take part in a search only
when it is about one patient (a patient's own search always is), never in an organisation-wide one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select

from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.observation_lab import observation_parameters
from clinical.fhir.search.request import SearchParameter, SearchRequest
from clinical.fhir.search.values import ParamType
from core.errors import NotFound
from core.identity.principal import Principal
from devices.vitals.fhir import reading_observation
from devices.vitals.models import VitalReading


def _no_id(values: list[Any]) -> ColumnElement[bool]:
    # Reading Observation ids are hashes of the reading's key: no row can be looked up by one.
    return false()


class DeviceVitalSource(TableProvider):
    resource_type = "Observation"
    model = VitalReading
    # Newest first: `$everything` keeps the most recent readings within its per-type limit.
    order = (VitalReading.time.desc(), VitalReading.device_id)

    def tiebreak(self) -> Any:
        return VitalReading.metric

    def patient_column(self) -> Any:
        return VitalReading.patient_id

    def applies(self, request: SearchRequest, principal: Principal) -> bool:
        return not principal.is_staff or bool(request.values_of("patient"))

    def base_query(self, principal: Principal) -> Select[Any]:
        return select(VitalReading).where(VitalReading.patient_id.is_not(None))

    def parameters(self) -> Mapping[str, SearchParameter]:
        return {
            "_id": SearchParameter("_id", ParamType.TOKEN, "Logical id", _no_id),
            **self.search_parameters(),
        }

    def search_parameters(self) -> dict[str, SearchParameter]:
        return observation_parameters(
            VitalReading.patient_id, VitalReading.metric, VitalReading.time, "vital-signs"
        )

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        raise NotFound(f"There is no Observation with id '{resource_id}' that can be read by id.")

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [
            Rendered(
                reading_observation(
                    patient_id=row.patient_id,
                    metric=row.metric,
                    value=row.value,
                    unit=row.unit,
                    time=row.time,
                    device_id=row.device_id,
                ),
                row.patient_id,
            )
            for row in rows
        ]
