"""Medication: what a prescription prescribes (its name and code), one per MedicationRequest.

Prescriptions name their medication inline; serving it as a Medication resource (whose id is the
prescription's) lets MedicationRequest refer to it, and clients `_include` it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clinical.encounters import Prescription
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, meta
from clinical.fhir.search.clauses import token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType


class MedicationProvider(TableProvider):
    resource_type = "Medication"
    documentation = "The medication of one prescription; its id is the prescription's (MedicationRequest) id."
    model = Prescription
    order = (Prescription.created_at,)

    def patient_column(self) -> Any:
        return Prescription.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            "code": SearchParameter(
                "code",
                ParamType.TOKEN,
                "The medication's code",
                token_clause(Prescription.medication_code, system=None),
            )
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(medication_resource(row), row.patient_id) for row in rows]


def medication_resource(prescription: Prescription) -> dict[str, Any]:
    """The Medication a prescription names."""
    return drop_empty(
        {
            "resourceType": "Medication",
            "id": str(prescription.id),
            "meta": meta(prescription),
            "code": concept(None, prescription.medication_code, text=prescription.medication_name),
        }
    )
