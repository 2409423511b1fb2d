"""Helpers for the FHIR tests: every served resource is validated with the `fhir.resources` models.

`fhir.resources` 8.x models R5 by default; its `R4B` package (FHIR 4.3) is the closest faithful
model of R4 available for pydantic 2 (the R4-only 6.x releases need pydantic 1). R4B changed none
of the elements these resources use, so a resource that validates as R4B is valid R4 here.
"""

from __future__ import annotations

from typing import Any

import httpx
from fhir.resources.R4B import FHIRAbstractModel, get_fhir_model_class

FHIR_JSON = "application/fhir+json"


def validate_resource(data: dict[str, Any]) -> FHIRAbstractModel:
    """The resource parsed by its R4B model (raises on any invalid or unknown element)."""
    model = get_fhir_model_class(data["resourceType"])
    return model.model_validate(data)


def assert_no_empty_values(value: Any, path: str = "") -> None:
    """FHIR JSON never holds null, empty strings, empty arrays or empty objects."""
    assert value not in (None, "", [], {}), f"empty value at {path or '/'}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert_no_empty_values(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_no_empty_values(item, f"{path}/{index}")


def fhir_json(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The body of a FHIR answer, checked: status, media type, a valid resource (each entry too)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    assert_no_empty_values(body)
    validate_resource(body)
    for entry in body.get("entry", []):
        if "resource" in entry or body.get("type") not in (
            "history",
            "batch-response",
            "transaction-response",
        ):
            validate_resource(entry["resource"])
    return body


def outcome(response: httpx.Response, status: int) -> dict[str, Any]:
    """An OperationOutcome answered with `status`; returns its first issue."""
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert issue["severity"] == "error" and issue["diagnostics"]
    return issue


def entry_ids(bundle: dict[str, Any]) -> list[str]:
    """The ids of a Bundle's entries, in order."""
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)
