"""Reading the FHIR JSON a client sends: elements by path, references, codes and dates, each refusal
naming the element to fix (an OperationOutcome 400 through `InvalidResource`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from clinical.fhir.errors import InvalidResource
from core.errors import NotFound


def element(resource: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`code.coding.0.code`), or None where any step is missing."""
    value: Any = resource
    for step in path.split("."):
        if isinstance(value, list):
            value = value[int(step)] if step.isdigit() and int(step) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
        if value is None:
            return None
    return value


def text(resource: dict[str, Any], path: str, *, required: bool = False) -> str | None:
    """A string element, stripped; None (or 400 when `required`) if absent or empty."""
    value = element(resource, path)
    if value is not None and not isinstance(value, str):
        raise InvalidResource(f"{path} must be a string.")
    value = value.strip() if value else None
    if required and not value:
        raise InvalidResource(f"{path} is required.")
    return value


def reference_id(
    resource: dict[str, Any], path: str, resource_type: str, *, required: bool = True
) -> uuid.UUID | None:
    """The id of a `Type/id` reference (absolute URLs ending so are accepted) to `resource_type`."""
    value = text(resource, f"{path}.reference", required=required)
    if value is None:
        return None
    parts = value.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != resource_type:
        raise InvalidResource(
            f"{path} must refer to a {resource_type} ('{resource_type}/<id>'), not '{value}'."
        )
    try:
        return uuid.UUID(parts[-1])
    except ValueError:
        raise InvalidResource(
            f"{path} refers to '{value}', which is no {resource_type} of this server."
        ) from None


def coding(resource: dict[str, Any], path: str, system: str | None = None) -> dict[str, Any] | None:
    """The first coding of a CodeableConcept (at `path`; "" for `resource` itself), or its first in `system`."""
    for item in element(resource, f"{path}.coding" if path else "coding") or []:
        if not isinstance(item, dict):
            continue
        # A coding without a system is taken to be in the one the element is bound to.
        in_system = system is None or item.get("system") in (system, None)
        if in_system and item.get("code"):
            return item
    return None


def code(resource: dict[str, Any], path: str, system: str | None = None) -> str | None:
    """The code of `coding(...)`, or None."""
    found = coding(resource, path, system)
    return str(found["code"]) if found else None


def day(resource: dict[str, Any], path: str) -> date | None:
    """A FHIR date (or the date of a dateTime)."""
    value = text(resource, path)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise InvalidResource(f"{path} must be a date (YYYY-MM-DD), not '{value}'.") from None


def instant(resource: dict[str, Any], path: str, *, required: bool = False) -> datetime | None:
    """A dateTime with its offset; one without is refused, not guessed."""
    value = text(resource, path, required=required)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidResource(f"{path} must be a date-time with an offset, e.g. 2025-03-01T09:00:00+01:00.")
    return moment


def check_type(resource: Any, resource_type: str, resource_id: str | None = None) -> dict[str, Any]:
    """The body, if it is a JSON object of `resource_type` (and, for an update, has the path's id)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        raise InvalidResource(
            f"The body must be a {resource_type} resource (resourceType '{resource_type}')."
        )
    if resource_id is not None and resource.get("id") != resource_id:
        raise InvalidResource(f"The resource's id must be '{resource_id}', the id in the URL.")
    return resource


def parse_id(resource_id: str, resource_type: str) -> uuid.UUID:
    """A resource id of ours (a UUID); 404 for any other."""
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        raise NotFound(f"There is no {resource_type} with id '{resource_id}'.") from None
