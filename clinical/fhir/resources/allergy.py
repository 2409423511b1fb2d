"""AllergyIntolerance: the patient's recorded allergies and intolerances."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from clinical.fhir.constants import ALLERGY_CLINICAL, ALLERGY_VERIFICATION
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, reference
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.patients import Allergy, AllergyStatus
from core.principal import Principal


class AllergyIntoleranceProvider(TableProvider):
    resource_type = "AllergyIntolerance"
    model = Allergy
    dated_by = Allergy.created_at
    order = (Allergy.created_at,)

    def patient_column(self) -> Any:
        return Allergy.patient_id

    def base_query(self, principal: Principal) -> Select[Any]:
        # Entries removed as entered in error are not part of the record any more.
        return select(Allergy).where(Allergy.status != AllergyStatus.ENTERED_IN_ERROR)

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(Allergy.patient_id),
            "clinical-status": SearchParameter(
                "clinical-status",
                ParamType.TOKEN,
                "Clinical status",
                token_clause(Allergy.status, system=ALLERGY_CLINICAL),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(allergy_resource(row), row.patient_id) for row in rows]


def allergy_resource(allergy: Allergy) -> dict[str, Any]:
    """The FHIR AllergyIntolerance of one recorded allergy."""
    return drop_empty(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(allergy.id),
            "meta": meta(allergy),
            "clinicalStatus": concept(ALLERGY_CLINICAL, allergy.status.value),
            "verificationStatus": concept(ALLERGY_VERIFICATION, "confirmed"),
            "category": [allergy.category.value] if allergy.category else [],
            "criticality": allergy.criticality.value,
            "code": concept(allergy.substance_system, allergy.substance_code, text=allergy.substance_text),
            "patient": reference("Patient", allergy.patient_id),
            "recordedDate": instant(allergy.created_at),
            "reaction": [{"manifestation": [{"text": allergy.reaction}]}] if allergy.reaction else [],
        }
    )
