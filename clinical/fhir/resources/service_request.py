"""ServiceRequest: laboratory orders, each with its LOINC-coded tests and placer order number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clinical.fhir.constants import LOINC, REQUEST_STATUS, SNOMED
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, reference
from clinical.fhir.resources.lab_common import ORDER_TO_REQUEST_STATUS, order_code, order_identifiers, reverse
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.lab import LabOrder


class ServiceRequestProvider(TableProvider):
    resource_type = "ServiceRequest"
    documentation = "Laboratory orders."
    model = LabOrder
    dated_by = LabOrder.created_at
    order = (LabOrder.created_at,)

    def patient_column(self) -> Any:
        return LabOrder.patient_id

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            **patient_parameters(LabOrder.patient_id),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "active, completed or revoked",
                token_clause(
                    LabOrder.status, system=REQUEST_STATUS, mapping=reverse(ORDER_TO_REQUEST_STATUS)
                ),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(service_request_resource(row), row.patient_id) for row in rows]


def service_request_resource(order: LabOrder) -> dict[str, Any]:
    """The FHIR ServiceRequest of one lab order."""
    return drop_empty(
        {
            "resourceType": "ServiceRequest",
            "id": str(order.id),
            "meta": meta(order),
            "identifier": order_identifiers(order),
            "status": ORDER_TO_REQUEST_STATUS[order.status],
            "intent": "order",
            "category": [concept(SNOMED, "108252007", "Laboratory procedure")],
            "priority": order.priority.value,
            "code": order_code(order),
            "orderDetail": [concept(LOINC, i.loinc_code, i.display) for i in order.items]
            if len(order.items) > 1
            else [],
            "subject": reference("Patient", order.patient_id),
            "encounter": reference("Encounter", order.encounter_id) if order.encounter_id else None,
            "authoredOn": instant(order.created_at),
            "requester": reference("Practitioner", order.ordering_practitioner_id),
            "note": [{"text": order.clinical_note}] if order.clinical_note else [],
        }
    )
