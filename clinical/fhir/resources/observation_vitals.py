"""Vital-sign Observations recorded by hand (nurses, clinicians), on the FHIR vital-signs profile.

Each says how it was obtained (`method`: manual, or reported by the patient) and who measured it
(`performer`: the practitioner of the nurse's or clinician's account, or the patient).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from clinical.encounters import RecordedVital
from clinical.fhir.constants import LOINC, OBSERVATION_CATEGORY, OBSERVATION_METHOD, UCUM, VITAL_SIGNS_PROFILE
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, reference
from clinical.fhir.resources.observation_lab import observation_parameters
from clinical.fhir.search.request import SearchParameter
from clinical.organisation import Practitioner
from devices.protocol import METRICS_BY_KEY

VITAL_SIGNS = concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")


def vital_signs_observation(
    *,
    resource_id: str,
    patient_id: Any,
    metric: str,
    value: float,
    unit: str,
    at: Any,
    last_updated: Any,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A vital-signs Observation of one value (LOINC code, UCUM quantity)."""
    spec = METRICS_BY_KEY.get(metric)
    return drop_empty(
        {
            "resourceType": "Observation",
            "id": resource_id,
            "meta": {"lastUpdated": instant(last_updated), "profile": [VITAL_SIGNS_PROFILE]},
            "status": "final",
            "category": [VITAL_SIGNS],
            "code": concept(LOINC, metric, spec.display if spec else None),
            "subject": reference("Patient", patient_id),
            "effectiveDateTime": instant(at),
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            **(extra or {}),
        }
    )


class RecordedVitalSource(TableProvider):
    resource_type = "Observation"
    model = RecordedVital
    dated_by = RecordedVital.measured_at
    order = (RecordedVital.measured_at,)

    def patient_column(self) -> Any:
        return RecordedVital.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return observation_parameters(
            RecordedVital.patient_id, RecordedVital.metric_code, RecordedVital.measured_at, "vital-signs"
        )

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        recorders = {row.recorded_by for row in rows if not row.reported_by_patient}
        practitioners = (
            {
                p.user_id: p
                for p in await ctx.session.scalars(
                    select(Practitioner).where(Practitioner.user_id.in_(recorders))
                )
            }
            if recorders
            else {}
        )
        return [
            Rendered(recorded_vital_observation(row, practitioners.get(row.recorded_by)), row.patient_id)
            for row in rows
        ]


def _performer(vital: RecordedVital, practitioner: Practitioner | None) -> list[dict[str, Any]] | None:
    if vital.reported_by_patient:
        return [reference("Patient", vital.patient_id)]
    if practitioner is not None:
        name = " ".join(
            filter(None, [practitioner.prefix, practitioner.given_name, practitioner.family_name])
        )
        return [reference("Practitioner", practitioner.id, name)]
    return None


def recorded_vital_observation(
    vital: RecordedVital, practitioner: Practitioner | None = None
) -> dict[str, Any]:
    """The Observation of one manually recorded vital sign, with the practitioner who measured it."""
    method = (
        concept(OBSERVATION_METHOD, "patient-reported", "Reported by the patient")
        if vital.reported_by_patient
        else concept(OBSERVATION_METHOD, "manual", "Recorded by hand")
    )
    extra = {
        "encounter": reference("Encounter", vital.encounter_id) if vital.encounter_id else None,
        "issued": instant(vital.created_at),
        "performer": _performer(vital, practitioner),
        "method": method,
    }
    return vital_signs_observation(
        resource_id=str(vital.id),
        patient_id=vital.patient_id,
        metric=vital.metric_code,
        value=vital.value,
        unit=vital.unit,
        at=vital.measured_at,
        last_updated=vital.created_at,
        extra=extra,
    )
