"""Encounter: consultations, from an appointment or walk-in, with their period and practitioner."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from clinical.encounters import Encounter, EncounterClass, EncounterStatus
from clinical.fhir.constants import ENCOUNTER_CLASS, ENCOUNTER_STATUS
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import coding, drop_empty, instant, meta, reference
from clinical.fhir.search.clauses import patient_parameters, period_clause, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType

STATUS_TO_FHIR = MappingProxyType(
    {
        EncounterStatus.PLANNED: "planned",
        EncounterStatus.IN_PROGRESS: "in-progress",
        EncounterStatus.FINISHED: "finished",
        EncounterStatus.CANCELLED: "cancelled",
    }
)
FHIR_TO_STATUS = MappingProxyType({fhir: ours for ours, fhir in STATUS_TO_FHIR.items()})
# v3 ActCode codes for the encounter classes we support.
CLASS_CODES = MappingProxyType(
    {
        EncounterClass.AMBULATORY: ("AMB", "ambulatory"),
        EncounterClass.VIRTUAL: ("VR", "virtual"),
        EncounterClass.INPATIENT: ("IMP", "inpatient encounter"),
    }
)


class EncounterProvider(TableProvider):
    resource_type = "Encounter"
    model = Encounter
    dated_by = Encounter.started_at
    order = (Encounter.created_at,)

    def patient_column(self) -> Any:
        return Encounter.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(Encounter.patient_id),
            "date": SearchParameter(
                "date",
                ParamType.DATE,
                "The encounter's period (eq: within the range; ge, gt, le, lt: overlapping beyond it)",
                period_clause(Encounter.started_at, Encounter.ended_at),
                sort=Encounter.started_at,
            ),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "Encounter status",
                token_clause(Encounter.status, system=ENCOUNTER_STATUS, mapping=FHIR_TO_STATUS),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(encounter_resource(row), row.patient_id) for row in rows]


def encounter_resource(encounter: Encounter) -> dict[str, Any]:
    """The FHIR Encounter of one consultation."""
    code, display = CLASS_CODES[encounter.encounter_class]
    length = None
    if encounter.started_at and encounter.ended_at:
        minutes = (encounter.ended_at - encounter.started_at).total_seconds() / 60
        length = {
            "value": round(minutes, 1),
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        }
    return drop_empty(
        {
            "resourceType": "Encounter",
            "id": str(encounter.id),
            "meta": meta(encounter),
            "status": STATUS_TO_FHIR[encounter.status],
            "class": coding(ENCOUNTER_CLASS, code, display),
            "subject": reference("Patient", encounter.patient_id),
            "participant": [{"individual": reference("Practitioner", encounter.practitioner_id)}],
            "appointment": [reference("Appointment", encounter.appointment_id)]
            if encounter.appointment_id
            else [],
            "period": drop_empty(
                {"start": instant(encounter.started_at), "end": instant(encounter.ended_at)}
            ),
            "length": length,
            "reasonCode": [{"text": encounter.reason}] if encounter.reason else [],
        }
    )
