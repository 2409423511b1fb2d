"""DiagnosticReport: a laboratory report per order, grouping the order's current results."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, select

from clinical.fhir.constants import (
    DIAGNOSTIC_REPORT_STATUS,
    DIAGNOSTIC_SERVICE_SECTION,
    IDENTIFIER_TYPE,
    PLACER_ORDER_SYSTEM,
)
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, reference
from clinical.fhir.resources.lab_common import (
    ORDER_TO_REPORT_STATUS,
    order_code,
    released_orders_only,
    released_results_only,
    reverse,
)
from clinical.fhir.search.clauses import reference_clause, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.lab.models import LabOrder, LabResult
from core.identity.principal import Principal


class DiagnosticReportProvider(TableProvider):
    resource_type = "DiagnosticReport"
    documentation = "Laboratory reports, one per order with results; its id is the order's id."
    model = LabOrder
    dated_by = LabOrder.created_at
    order = (LabOrder.created_at,)

    def patient_column(self) -> Any:
        return LabOrder.patient_id

    def base_query(self, principal: Principal) -> Select[Any]:
        # A report exists once the order has a result the caller may see.
        visible = exists().where(LabResult.order_id == LabOrder.id, released_results_only(principal))
        return select(LabOrder).where(visible, released_orders_only(principal))

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            "patient": SearchParameter(
                "patient",
                ParamType.REFERENCE,
                "The patient",
                reference_clause(LabOrder.patient_id, resource_type="Patient"),
            ),
            "status": SearchParameter(
                "status",
                ParamType.TOKEN,
                "partial, preliminary, final, corrected or cancelled",
                token_clause(
                    LabOrder.status, system=DIAGNOSTIC_REPORT_STATUS, mapping=reverse(ORDER_TO_REPORT_STATUS)
                ),
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        results: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        if rows:
            found = await ctx.session.execute(
                select(LabResult.order_id, LabResult.id)
                .where(LabResult.order_id.in_([r.id for r in rows]), released_results_only(ctx.principal))
                .order_by(LabResult.created_at, LabResult.id)
            )
            for order_id, result_id in found:
                results[order_id].append(result_id)
        return [Rendered(diagnostic_report_resource(row, results[row.id]), row.patient_id) for row in rows]


def diagnostic_report_resource(order: LabOrder, result_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    """The FHIR DiagnosticReport of one lab order and its current results."""
    placer = {
        "type": concept(IDENTIFIER_TYPE, "PLAC", "Placer Identifier"),
        "system": PLACER_ORDER_SYSTEM,
        "value": order.placer_order_number,
    }
    issued = order.corrected_at or order.final_at or order.preliminary_at
    return drop_empty(
        {
            "resourceType": "DiagnosticReport",
            "id": str(order.id),
            "meta": meta(order),
            "identifier": [placer],
            "basedOn": [reference("ServiceRequest", order.id)],
            "status": ORDER_TO_REPORT_STATUS[order.status],
            "category": [concept(DIAGNOSTIC_SERVICE_SECTION, "LAB", "Laboratory")],
            "code": order_code(order),
            "subject": reference("Patient", order.patient_id),
            "encounter": reference("Encounter", order.encounter_id) if order.encounter_id else None,
            "effectiveDateTime": instant(order.collected_at),
            "issued": instant(issued),
            "performer": [{"display": "Laboratory"}],
            "result": [reference("Observation", rid) for rid in result_ids],
        }
    )
