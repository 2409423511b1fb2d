"""The OpenAPI document, corrected where FastAPI's generated one does not tell what the api serves.

- Errors: every operation answers them as `application/problem+json` (`Problem`), or under `/fhir`
  as `application/fhir+json` OperationOutcomes; FastAPI would document a `422` in its own JSON shape
  that no endpoint sends.
- FHIR: resources are read and written as `application/fhir+json`; searches by POST are form-encoded.
- Authentication: the `bearer` scheme is declared by FastAPI itself, from `DOCUMENTED_BEARER`, which
  the app adds to the routers that require a signed-in user (`api.app`).
- Times of day are served as `HH:MM:SS` without an offset; JSON Schema's `time` format would promise one.

The document is built once, on first request, from the app's routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.security import HTTPBearer

from api.problems import PROBLEM_MEDIA_TYPE
from clinical.fhir import FHIR_MEDIA_TYPE

FHIR_PREFIX = "/fhir/"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "description": "A time of day, HH:MM:SS (HH:MM accepted), without an offset",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; some errors add members of their own beside these.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri", "examples": ["https://ownat.org/problems/not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, in words for a person"},
        "code": {"type": "string", "description": "Stable machine-readable code, e.g. validation-failed"},
        "instance": {"type": "string", "description": "The path of the request"},
        "request_id": {"type": "string", "description": "As in the X-Request-ID header and the logs"},
        "errors": {
            "type": "array",
            "description": "Each field at fault (validation errors)",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {"type": "string", "examples": ["#/body/email"]},
                    "detail": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
    "additionalProperties": True,
}
OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "title": "OperationOutcome",
    "description": "FHIR R4 OperationOutcome: how FHIR operations report errors.",
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
FHIR_RESOURCE_SCHEMA: dict[str, Any] = {
    "title": "FhirResource",
    "description": "A FHIR R4 resource (or Bundle) in its JSON form.",
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string"}},
    "additionalProperties": True,
}
# Only documents: it never refuses (auto_error off); `get_current_principal` checks the token.
DOCUMENTED_BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="JWT",
    description="The access_token of POST /api/v1/auth/login (or /auth/refresh).",
    auto_error=False,
)


def install_openapi(app: FastAPI) -> None:
    """Replaces the app's OpenAPI builder by one that corrects the generated document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _correct(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _correct(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(
        Problem=PROBLEM_SCHEMA, OperationOutcome=OPERATION_OUTCOME_SCHEMA, FhirResource=FHIR_RESOURCE_SCHEMA
    )
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if path.startswith(FHIR_PREFIX):
                _fhir_operation(path, method, operation)
            else:
                _api_errors(operation)
    # FastAPI's own validation error shapes are answered by no endpoint.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _times_of_day(document)


def _error_response(media_type: str, schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": _ref(schema)}}}


def _api_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        content = response.get("content", {})
        # An endpoint answering a file or another format documents it; FastAPI then also lists JSON of
        # any shape, which such an endpoint never sends.
        if (
            status.startswith("2")
            and len(content) > 1
            and content.get("application/json", {}).get("schema") == {}
        ):
            del content["application/json"]
    if "422" in responses:
        responses["422"] = _error_response(
            PROBLEM_MEDIA_TYPE, "Problem", "Validation failed: `errors` points at each field"
        )
    responses["4XX"] = _error_response(PROBLEM_MEDIA_TYPE, "Problem", "The request cannot be served")
    responses["5XX"] = _error_response(PROBLEM_MEDIA_TYPE, "Problem", "The server failed or is unavailable")


def _fhir_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    # Invalid input under /fhir is a 400 OperationOutcome, never FastAPI's 422.
    responses.pop("422", None)
    for status, response in responses.items():
        if status.startswith("2"):
            response["content"] = {FHIR_MEDIA_TYPE: {"schema": _ref("FhirResource")}}
    if method == "post" and path.endswith("/{resource_type}"):
        # Created (201), or the existing match of If-None-Exist (200).
        responses["201"] = {
            "description": "Created",
            "content": {FHIR_MEDIA_TYPE: {"schema": _ref("FhirResource")}},
        }
    if method in ("post", "put") and "requestBody" not in operation:
        content: dict[str, Any]
        if path.endswith("/_search"):
            content = {
                FORM_MEDIA_TYPE: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}
            }
        else:
            content = {FHIR_MEDIA_TYPE: {"schema": _ref("FhirResource")}}
        operation["requestBody"] = {"required": True, "content": content}
    responses["4XX"] = _error_response(FHIR_MEDIA_TYPE, "OperationOutcome", "The request cannot be served")
    responses["5XX"] = _error_response(FHIR_MEDIA_TYPE, "OperationOutcome", "The server failed")


def _times_of_day(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node.pop("format")
            node.update({k: v for k, v in TIME_OF_DAY.items() if k not in node or k == "pattern"})
        for value in node.values():
            _times_of_day(value)
    elif isinstance(node, list):
        for value in node:
            _times_of_day(value)
