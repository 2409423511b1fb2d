"""Laboratory Observations: the current result of each ordered test, with range and interpretation."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true

from clinical.fhir.constants import INTERPRETATION, LOINC, OBSERVATION_CATEGORY, UCUM
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, instant, meta, number, reference
from clinical.fhir.resources.lab_common import released_results_only
from clinical.fhir.search.clauses import (
    date_clause,
    patient_parameters,
    token_clause,
    wanted_codes,
)
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.lab import LabOrder, LabOrderItem, LabResult, ValueType
from core.principal import Principal

NUMERIC_TYPES = frozenset({ValueType.NUMERIC, ValueType.STRUCTURED_NUMERIC})
COMPARATORS = frozenset({"<", "<=", ">=", ">"})


def category_clause(category: str) -> Any:
    """Matches every row of a source whose Observations all have `category`, and none otherwise."""

    def build(values: list[Any]) -> ColumnElement[bool]:
        return true() if wanted_codes(values, OBSERVATION_CATEGORY).admits(category) else false()

    return build


def observation_parameters(patient: Any, code: Any, when: Any, category: str) -> dict[str, SearchParameter]:
    """The Observation search parameters, over one source's columns."""
    return {
        **patient_parameters(patient),
        "category": SearchParameter(
            "category", ParamType.TOKEN, "vital-signs or laboratory", category_clause(category)
        ),
        "code": SearchParameter("code", ParamType.TOKEN, "LOINC code", token_clause(code, system=LOINC)),
        "date": SearchParameter(
            "date", ParamType.DATE, "When observed (eq, ge, le, gt, lt)", date_clause(when), sort=when
        ),
    }


class LabObservationSource(TableProvider):
    resource_type = "Observation"
    model = LabResult
    dated_by = LabResult.observed_at
    order = (LabResult.created_at,)

    def patient_column(self) -> Any:
        return LabResult.patient_id

    def base_query(self, principal: Principal) -> Select[Any]:
        return select(LabResult).where(released_results_only(principal))

    def search_parameters(self) -> dict[str, SearchParameter]:
        return observation_parameters(
            LabResult.patient_id, LabResult.loinc_code, LabResult.observed_at, "laboratory"
        )

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        items: dict[Any, LabOrderItem] = {}
        encounters: dict[Any, Any] = {}
        if rows:
            items = {
                i.id: i
                for i in await ctx.session.scalars(
                    select(LabOrderItem).where(LabOrderItem.id.in_({r.order_item_id for r in rows}))
                )
            }
            found = await ctx.session.execute(
                select(LabOrder.id, LabOrder.encounter_id).where(LabOrder.id.in_({r.order_id for r in rows}))
            )
            encounters = {row.id: row.encounter_id for row in found}
        return [
            Rendered(lab_observation(r, items[r.order_item_id], encounters.get(r.order_id)), r.patient_id)
            for r in rows
        ]


def _quantity(value: Decimal, result: LabResult) -> dict[str, Any]:
    # UCUM is claimed only for a unit known to be UCUM (clinical.lab.units); else the text alone.
    code = result.unit_code
    return drop_empty(
        {"value": number(value), "unit": result.unit, "system": UCUM if code else None, "code": code}
    )


def _value(result: LabResult) -> dict[str, Any]:
    if result.value_type is ValueType.ENCAPSULATED_DATA:
        # R4 Observations carry no attachment: the document is the report's presented form.
        return {"valueString": f"Document ({attachment_of(result)['contentType']}) in the laboratory report"}
    if result.value_type in NUMERIC_TYPES and result.value_numeric is not None:
        quantity = _quantity(result.value_numeric, result)
        if result.comparator in COMPARATORS:
            quantity["comparator"] = result.comparator
        return {"valueQuantity": quantity}
    return {"valueString": result.value}


def _reference_range(result: LabResult) -> list[dict[str, Any]]:
    bounds = drop_empty(
        {
            "low": _quantity(result.reference_low, result) if result.reference_low is not None else None,
            "high": _quantity(result.reference_high, result) if result.reference_high is not None else None,
            "text": result.reference_text,
        }
    )
    return [bounds] if bounds else []


def lab_observation(result: LabResult, item: LabOrderItem, encounter_id: Any) -> dict[str, Any]:
    """The FHIR Observation of one lab result (HL7 table 0078 flags are v3 interpretation codes)."""
    flag = result.abnormal_flag
    return drop_empty(
        {
            "resourceType": "Observation",
            "id": str(result.id),
            "meta": meta(result),
            "basedOn": [reference("ServiceRequest", result.order_id)],
            "status": result.status.value,
            "category": [concept(OBSERVATION_CATEGORY, "laboratory", "Laboratory")],
            "code": concept(LOINC, result.loinc_code, item.display),
            "subject": reference("Patient", result.patient_id),
            "encounter": reference("Encounter", encounter_id) if encounter_id else None,
            "effectiveDateTime": instant(result.observed_at),
            "issued": instant(result.created_at),
            **_value(result),
            "interpretation": [concept(INTERPRETATION, flag.value)] if flag else [],
            "referenceRange": _reference_range(result),
            "note": [{"text": result.note}] if result.note else [],
        }
    )


def attachment_of(result: LabResult) -> dict[str, Any]:
    """An encapsulated-data result (kept as a `data:` URI) as a FHIR Attachment."""
    header, _, data = result.value.partition(",")
    content_type = header.removeprefix("data:").removesuffix(";base64") or "application/octet-stream"
    return {"contentType": content_type, "data": data, "title": f"Result {result.loinc_code}"}
