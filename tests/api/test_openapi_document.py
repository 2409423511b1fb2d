"""The OpenAPI document tells what the api serves: errors, media types, authentication, time formats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/api/v1/auth/password-policy"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/verify-email"),
    ("post", "/api/v1/auth/resend-verification"),
    ("post", "/api/v1/auth/forgot-password"),
    ("post", "/api/v1/auth/reset-password"),
    ("post", "/api/v1/billing/gateway/webhook"),
    ("post", "/api/v1/consults/invitations/redeem"),
    ("get", "/fhir/R4/metadata"),
}


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _schema_ref(response: dict[str, Any], media_type: str) -> str | None:
    return response.get("content", {}).get(media_type, {}).get("schema", {}).get("$ref")


def test_every_error_is_documented_as_problem_json_or_an_operation_outcome(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    for method, path, operation in _operations(document):
        errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
        assert {"4XX", "5XX"} <= set(errors), (method, path)
        for status, response in errors.items():
            if path.startswith("/fhir/"):
                ref = _schema_ref(response, "application/fhir+json")
                assert ref == "#/components/schemas/OperationOutcome", (method, path, status)
            else:
                assert set(response["content"]) == {"application/problem+json"}, (method, path, status)
                assert _schema_ref(response, "application/problem+json") == "#/components/schemas/Problem"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_fhir_and_hl7_use_their_own_media_types(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        successes = [r for status, r in operation["responses"].items() if status.startswith("2")]
        if path.startswith("/fhir/"):
            for response in successes:
                assert set(response["content"]) == {"application/fhir+json"}, (method, path)
            if method in ("post", "put"):
                assert operation["requestBody"]["content"], (method, path)
    resource_write = document["paths"]["/fhir/R4/{resource_type}"]["post"]
    assert set(resource_write["requestBody"]["content"]) == {"application/fhir+json"}
    assert "201" in resource_write["responses"]
    search = document["paths"]["/fhir/R4/{resource_type}/_search"]["post"]
    assert set(search["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
    oru = document["paths"]["/api/v1/hl7/oru"]["post"]
    assert "x-application/hl7-v2+er7" in oru["requestBody"]["content"]
    assert "x-application/hl7-v2+er7" in oru["responses"]["200"]["content"]
    assert "application/json" not in oru["responses"]["200"]["content"]
    for path in (
        "/api/v1/insurance/claims/{claim_id}/fhir",
        "/api/v1/patients/{patient_id}/vitals/observations",
    ):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) == {"application/fhir+json"}
    record = document["paths"]["/api/v1/patients/{patient_id}/record"]["get"]["responses"]["200"]
    assert set(record["content"]) == {"application/fhir+json", "application/pdf"}


def test_bearer_is_declared_and_required_exactly_where_a_user_is(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, operation in _operations(document):
        if (method, path) in PUBLIC:
            assert "security" not in operation, (method, path)
        else:
            assert operation.get("security") == [{"bearer": []}], (method, path)


async def test_public_operations_really_are_public_and_the_others_not(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    # One of each kind, asked without a token.
    assert (await client.get("/api/v1/auth/password-policy")).status_code == 200
    assert (await client.get("/fhir/R4/metadata")).status_code == 200
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/fhir/R4/Patient")).status_code == 401


def test_times_of_day_are_documented_as_served(document: dict[str, Any]) -> None:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            assert node.get("format") != "time", node  # RFC 3339 full-time requires an offset
            if "HH:MM" in str(node.get("description", "")):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert found and all("pattern" in node for node in found)
    preferences = document["components"]["schemas"]["PreferencesUpdate"]["properties"]["quiet_start"]
    assert "HH:MM" in str(preferences)


def test_every_operation_has_an_id_of_its_own(document: dict[str, Any]) -> None:
    """Client generators name methods by operationId: two operations sharing one collide."""
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
