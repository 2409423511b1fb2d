"""`_include` and `_revinclude`: resources the matches refer to, and resources that refer to them.

Each include is declared once, by the source type and parameter and where its reference sits in
the JSON; included resources are read through their providers, so they are scoped by the caller
like any read (a patient's search never includes another patient's data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from clinical.fhir.constants import MAX_PAGE_SIZE
from clinical.fhir.errors import InvalidSearch
from clinical.fhir.provider import FhirContext, Rendered, ResourceProvider
from clinical.fhir.search.request import Criterion, SearchRequest
from clinical.fhir.search.values import ReferenceValue
from core.errors import Forbidden, NotFound

# (source type, parameter) -> (element paths holding the reference, target type)
INCLUDES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("Observation", "patient"): (("subject",), "Patient"),
    ("Observation", "subject"): (("subject",), "Patient"),
    ("Appointment", "patient"): (("participant", "actor"), "Patient"),
    ("Appointment", "practitioner"): (("participant", "actor"), "Practitioner"),
    ("DiagnosticReport", "result"): (("result",), "Observation"),
    ("DiagnosticReport", "patient"): (("subject",), "Patient"),
    ("MedicationRequest", "medication"): (("medicationReference",), "Medication"),
    ("MedicationRequest", "patient"): (("subject",), "Patient"),
    ("Encounter", "patient"): (("subject",), "Patient"),
    ("Condition", "patient"): (("subject",), "Patient"),
    ("AllergyIntolerance", "patient"): (("patient",), "Patient"),
    ("ServiceRequest", "patient"): (("subject",), "Patient"),
    ("DocumentReference", "patient"): (("subject",), "Patient"),
    ("DeviceMetric", "source"): (("source",), "Device"),
}
# Resources included per `_revinclude`, at most (a page of matches, not a whole record).
MAX_REVINCLUDED = MAX_PAGE_SIZE


def _spec(value: str, name: str) -> tuple[str, str, str | None]:
    source, _, rest = value.partition(":")
    parameter, _, target = rest.partition(":")
    if (source, parameter) not in INCLUDES:
        offered = ", ".join(f"{s}:{p}" for s, p in INCLUDES)
        raise InvalidSearch(f"'{name}={value}' is not offered; these are: {offered}.")
    return source, parameter, target or None


def check_includes(request: SearchRequest, resource_type: str) -> None:
    """400 for an include this server does not offer or one that does not start at the searched type."""
    for value in request.includes:
        source, _, _ = _spec(value, "_include")
        if source != resource_type:
            raise InvalidSearch(
                f"'_include={value}' starts at {source}, but this search is of {resource_type}."
            )
    for value in request.revincludes:
        _, parameter, _ = _spec(value, "_revinclude")
        if INCLUDES[(value.split(":")[0], parameter)][1] != resource_type:
            raise InvalidSearch(f"'_revinclude={value}' does not refer to {resource_type}.")


def _references(resource: dict[str, Any], path: tuple[str, ...]) -> Iterable[str]:
    values: list[Any] = [resource]
    for step in path:
        nested: list[Any] = []
        for value in values:
            found = value.get(step) if isinstance(value, dict) else None
            nested += found if isinstance(found, list) else [found] if found is not None else []
        values = nested
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            yield value["reference"]


async def included(
    ctx: FhirContext,
    request: SearchRequest,
    matches: list[Rendered],
    provider_of: Callable[[str], ResourceProvider],
) -> list[Rendered]:
    """The resources the `_include`s and `_revinclude`s of `request` add to its page of matches."""
    seen = {(m.resource["resourceType"], m.resource["id"]) for m in matches}
    added: list[Rendered] = []
    for value in request.includes:
        source, parameter, target = _spec(value, "_include")
        path, target_type = INCLUDES[(source, parameter)]
        wanted = target or target_type
        for match in matches:
            for ref in _references(match.resource, path):
                kind, _, resource_id = ref.rpartition("/")
                if kind == wanted and (kind, resource_id) not in seen:
                    seen.add((kind, resource_id))
                    item = await _read(ctx, provider_of(kind), resource_id)
                    added += [item] if item else []
    for value in request.revincludes:
        source, parameter, _ = _spec(value, "_revinclude")
        references = [ReferenceValue(m.resource["resourceType"], m.resource["id"]) for m in matches]
        if not references:
            continue
        provider = provider_of(source)
        search = SearchRequest(criteria=[Criterion(parameter, list(references))], count=MAX_REVINCLUDED)
        for item in (await provider.search(ctx, search)).items:
            key = (item.resource["resourceType"], item.resource["id"])
            if key not in seen:
                seen.add(key)
                added.append(item)
    return added


async def _read(ctx: FhirContext, provider: ResourceProvider, resource_id: str) -> Rendered | None:
    try:
        return await provider.read(ctx, resource_id)
    except (NotFound, Forbidden):
        return None  # gone since, or not the caller's to see: not included
