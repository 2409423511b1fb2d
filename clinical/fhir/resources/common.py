"""Small builders shared by the resource mappings (references, codings, instants, meta)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def reference(resource_type: str, resource_id: uuid.UUID | str, display: str | None = None) -> dict[str, Any]:
    """A relative reference such as `Patient/<id>`."""
    ref: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def coding(system: str | None, code: str, display: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code}
    if system:
        item = {"system": system, **item}
    if display:
        item["display"] = display
    return item


def concept(
    system: str | None, code: str | None, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """A CodeableConcept with one coding (when there is a code) and its text."""
    result: dict[str, Any] = {}
    if code:
        result["coding"] = [coding(system, code, display)]
    if text or display:
        result["text"] = text or display
    return result


def instant(moment: datetime | None) -> str | None:
    """An ISO 8601 instant with its offset (stored times are UTC)."""
    return moment.isoformat() if moment else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def meta(row: Any) -> dict[str, Any]:
    """`meta.lastUpdated` from the row's `updated_at` (or `created_at`)."""
    moment = getattr(row, "updated_at", None) or getattr(row, "created_at", None)
    return {"lastUpdated": moment.isoformat()} if moment else {}


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """A non-negative integer in base 36: compact ids made of FHIR's id characters."""
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _BASE36[remainder] + digits
        if number == 0:
            return digits


def drop_empty(resource: dict[str, Any]) -> dict[str, Any]:
    """FHIR forbids empty values: None, empty strings, lists and objects are left out."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def number(value: Decimal | float | int) -> int | float:
    """A JSON number for a FHIR decimal: integral values stay integers, the rest become floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
