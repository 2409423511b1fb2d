"""Observation: vital signs, recorded by nurses and clinicians or reported by the patient, through
the recorded-vitals service (values converted to the stored unit, impossible ones refused). Lab
results arrive by HL7 or the REST API; recorded observations are not changed or deleted."""

from __future__ import annotations

from typing import Any

from clinical import encounters
from clinical.encounters import RecordedVitalsCreate, VitalInput
from clinical.fhir.constants import LOINC, OBSERVATION_CATEGORY
from clinical.fhir.errors import InvalidResource
from clinical.fhir.provider import FhirContext
from clinical.fhir.writes import reading
from clinical.fhir.writes.base import Writer, build
from devices.protocol import METRICS_BY_KEY


class ObservationWriter(Writer):
    resource_type = "Observation"
    can_update = False
    refusal = "A recorded observation stays as it was; record a new one."

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        categories = [
            reading.code(c, "", OBSERVATION_CATEGORY) for c in reading.element(resource, "category") or []
        ]
        if "vital-signs" not in categories:
            raise InvalidResource(
                "Only vital signs (category vital-signs) are recorded through FHIR; lab results come by HL7 v2."
            )
        metric = reading.code(resource, "code", LOINC)
        if metric not in METRICS_BY_KEY:
            known = ", ".join(sorted({spec.code for spec in METRICS_BY_KEY.values()}))
            raise InvalidResource(f"code needs a LOINC code of a vital sign recorded here: {known}.")
        unit = reading.text(resource, "valueQuantity.code") or reading.text(resource, "valueQuantity.unit")
        value = reading.element(resource, "valueQuantity.value")
        if not isinstance(value, int | float) or isinstance(value, bool) or unit is None:
            raise InvalidResource("valueQuantity needs a numeric value and a UCUM unit (code).")
        reading_in = build(
            VitalInput,
            metric=metric,
            value=value,
            unit=unit,
            measured_at=reading.instant(resource, "effectiveDateTime"),
        )
        new = build(
            RecordedVitalsCreate,
            patient_id=reading.reference_id(resource, "subject", "Patient"),
            encounter_id=reading.reference_id(resource, "encounter", "Encounter", required=False),
            readings=[reading_in],
        )
        [row] = await encounters.record_vitals(session=ctx.session, actor=ctx.principal, new=new)
        return str(row.id)
