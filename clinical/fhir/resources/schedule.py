"""Schedule: one per practitioner, the container their free Slots refer to (`Slot.schedule` is required)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import meta, reference
from clinical.fhir.search.clauses import reference_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.organisation import Practitioner


class ScheduleProvider(TableProvider):
    resource_type = "Schedule"
    patient_data = False
    documentation = "One Schedule per practitioner; its id is the practitioner's id."
    model = Practitioner
    order = (Practitioner.family_name, Practitioner.given_name)

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            "actor": SearchParameter(
                "actor",
                ParamType.REFERENCE,
                "The practitioner",
                reference_clause(Practitioner.id, resource_type="Practitioner"),
            )
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(schedule_resource(row), None) for row in rows]


def schedule_resource(practitioner: Practitioner) -> dict[str, Any]:
    """The Schedule of one practitioner (their weekly working hours, as free Slots show them)."""
    name = f"{practitioner.given_name} {practitioner.family_name}"
    return {
        "resourceType": "Schedule",
        "id": str(practitioner.id),
        "meta": meta(practitioner),
        "active": practitioner.active,
        "actor": [reference("Practitioner", practitioner.id, name)],
        "comment": f"Working hours of {name}",
    }
