"""DiagnosticReport: a laboratory report per order, grouping the order's current results."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, select

from clinical.fhir.constants import (
    DIAGNOSTIC_REPORT_STATUS,
    DIAGNOSTIC_SERVICE_SECTION,
)
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, reference
from clinical.fhir.resources.lab_common import (
    ORDER_TO_REPORT_STATUS,
    order_code,
    order_identifiers,
    released_orders_only,
    released_results_only,
    reverse,
)
from clinical.fhir.resources.observation_lab import attachment_of
from clinical.fhir.search.clauses import patient_parameters, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.lab import LabOrder, LabResult, ValueType
from core.principal import Principal


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
            **patient_parameters(LabOrder.patient_id),
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
        results: dict[uuid.UUID, list[LabResult]] = defaultdict(list)
        if rows:
            found = await ctx.session.scalars(
                select(LabResult)
                .where(LabResult.order_id.in_([r.id for r in rows]), released_results_only(ctx.principal))
                .order_by(LabResult.created_at, LabResult.id)
            )
            for result in found:
                results[result.order_id].append(result)
        return [Rendered(diagnostic_report_resource(row, results[row.id]), row.patient_id) for row in rows]


def _presented_form(order: LabOrder, results: Sequence[LabResult]) -> list[dict[str, Any]]:
    """Documents the laboratory sent (ED results) and its comments on the report, as attachments."""
    forms = [attachment_of(r) for r in results if r.value_type is ValueType.ENCAPSULATED_DATA]
    if order.report_note:
        comments = base64.b64encode(order.report_note.encode()).decode()
        forms.append(
            {"contentType": "text/plain; charset=utf-8", "data": comments, "title": "Laboratory comments"}
        )
    return forms


def diagnostic_report_resource(order: LabOrder, results: Sequence[LabResult]) -> dict[str, Any]:
    """The FHIR DiagnosticReport of one lab order and its current results."""
    issued = order.reported_at or order.corrected_at or order.final_at or order.preliminary_at
    return drop_empty(
        {
            "resourceType": "DiagnosticReport",
            "id": str(order.id),
            "meta": meta(order),
            "identifier": order_identifiers(order),
            "basedOn": [reference("ServiceRequest", order.id)],
            "status": ORDER_TO_REPORT_STATUS[order.status],
            "category": [concept(DIAGNOSTIC_SERVICE_SECTION, "LAB", "Laboratory")],
            "code": order_code(order),
            "subject": reference("Patient", order.patient_id),
            "encounter": reference("Encounter", order.encounter_id) if order.encounter_id else None,
            "effectiveDateTime": instant(order.effective_at or order.collected_at),
            "issued": instant(issued),
            "performer": [{"display": "Laboratory"}],
            "result": [reference("Observation", r.id) for r in results],
            "presentedForm": _presented_form(order, results),
        }
    )
