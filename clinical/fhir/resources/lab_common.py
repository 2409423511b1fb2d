"""What the laboratory resources share: status maps, the order's code, and who may see which result."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, true

from clinical.fhir.constants import FILLER_ORDER_SYSTEM, IDENTIFIER_TYPE, LOINC, PLACER_ORDER_SYSTEM
from clinical.fhir.resources.common import concept
from clinical.lab import LabOrder, LabResult, OrderStatus, ResultStatus
from core.principal import Principal

# Patients see results only once the laboratory has verified them (final or corrected).
RELEASED_RESULTS = (ResultStatus.FINAL, ResultStatus.CORRECTED)
RELEASED_ORDERS = (OrderStatus.FINAL, OrderStatus.CORRECTED)

# ServiceRequest.status (request-status): the order is active until reported or cancelled.
ORDER_TO_REQUEST_STATUS = MappingProxyType(
    {
        OrderStatus.REGISTERED: "active",
        OrderStatus.COLLECTED: "active",
        OrderStatus.IN_PROGRESS: "active",
        OrderStatus.PRELIMINARY: "active",
        OrderStatus.FINAL: "completed",
        OrderStatus.CORRECTED: "completed",
        OrderStatus.CANCELLED: "revoked",
    }
)
# DiagnosticReport.status (diagnostic-report-status).
ORDER_TO_REPORT_STATUS = MappingProxyType(
    {
        OrderStatus.REGISTERED: "registered",
        OrderStatus.COLLECTED: "registered",
        OrderStatus.IN_PROGRESS: "partial",
        OrderStatus.PRELIMINARY: "preliminary",
        OrderStatus.FINAL: "final",
        OrderStatus.CORRECTED: "corrected",
        OrderStatus.CANCELLED: "cancelled",
    }
)


def reverse(mapping: MappingProxyType[OrderStatus, str]) -> dict[str, tuple[OrderStatus, ...]]:
    """FHIR code -> every order status it stands for."""
    result: dict[str, tuple[OrderStatus, ...]] = {}
    for ours, fhir in mapping.items():
        result[fhir] = (*result.get(fhir, ()), ours)
    return result


def released_results_only(principal: Principal) -> ColumnElement[bool]:
    """The results a caller may see: all current ones for staff, released ones for patients."""
    current = LabResult.superseded_at.is_(None)
    if principal.is_staff:
        return current
    return current & LabResult.status.in_(RELEASED_RESULTS)


def released_orders_only(principal: Principal) -> ColumnElement[bool]:
    """Reports a caller may see: every order for staff, reported (final) ones for patients."""
    return true() if principal.is_staff else LabOrder.status.in_(RELEASED_ORDERS)


def order_identifiers(order: LabOrder) -> list[dict[str, Any]]:
    """The placer order number and, once the laboratory has named it (OBR-3), the filler's."""
    identifiers = [
        {
            "type": concept(IDENTIFIER_TYPE, "PLAC", "Placer Identifier"),
            "system": PLACER_ORDER_SYSTEM,
            "value": order.placer_order_number,
        }
    ]
    if order.filler_order_number:
        identifiers.append(
            {
                "type": concept(IDENTIFIER_TYPE, "FILL", "Filler Identifier"),
                "system": FILLER_ORDER_SYSTEM,
                "value": order.filler_order_number,
            }
        )
    return identifiers


def order_code(order: LabOrder) -> dict[str, Any]:
    """One LOINC test as the order's code; several as a text listing them (each in `orderDetail`)."""
    if len(order.items) == 1:
        item = order.items[0]
        return concept(LOINC, item.loinc_code, item.display)
    return {"text": "Laboratory tests: " + ", ".join(item.display for item in order.items)}
