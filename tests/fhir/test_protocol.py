"""The FHIR interface itself: authentication, OperationOutcome errors, parameters refused, metadata."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.builders import signed_in
from tests.fhir.conftest import fhir_json, outcome

BASE = "/fhir/R4"


@pytest.mark.parametrize(
    "path",
    [
        "/Patient",
        "/Patient/00000000-0000-0000-0000-000000000001",
        "/Patient/x/$everything",
        "/Observation?category=laboratory",
        "/Nothing/here",
    ],
)
async def test_every_fhir_path_needs_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(BASE + path)
    issue = outcome(response, 401)
    assert issue["code"] == "login"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_invalid_token_is_an_operation_outcome_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/Patient", headers={"Authorization": "Bearer not-a-token"})
    outcome(response, 401)


async def test_capability_statement_lists_what_is_implemented(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    body = fhir_json(await client.get(f"{BASE}/metadata", headers=headers))
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1" and body["format"] == ["json"]
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {"Patient", "Practitioner"} <= set(resources)
    assert {p["name"] for p in resources["Patient"]["searchParam"]} >= {
        "_id",
        "name",
        "family",
        "given",
        "birthdate",
        "identifier",
        "gender",
    }
    assert resources["Patient"]["operation"][0]["name"] == "everything"
    reads = {"read", "vread", "history-instance", "history-type", "search-type"}
    # Subscriptions, their topics and Groups (wards, for $export) are not versioned records.
    records = {
        kind: r for kind, r in resources.items() if kind not in {"Subscription", "SubscriptionTopic", "Group"}
    }
    for resource in records.values():
        assert reads <= {i["code"] for i in resource["interaction"]}
    writes = {kind: {i["code"] for i in r["interaction"]} - reads for kind, r in records.items()}
    assert writes["Patient"] == {"create", "update"} and writes["AllergyIntolerance"] == {
        "create",
        "update",
        "delete",
    }
    assert writes["Observation"] == {"create"} and writes["Practitioner"] == set()
    assert "Observation:patient" in resources["Observation"]["searchInclude"]
    assert "MedicationRequest:medication" in resources["MedicationRequest"]["searchInclude"]
    assert {i["code"] for i in body["rest"][0]["interaction"]} == {"batch", "transaction"}


async def test_the_capability_statement_declares_only_what_answers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    body = fhir_json(await client.get(f"{BASE}/metadata"))
    for resource in body["rest"][0]["resource"]:
        kind, interactions = resource["type"], {i["code"] for i in resource.get("interaction", [])}
        for parameter in resource.get("searchParam", []):
            if parameter["type"] == "token" and parameter["name"] != "_id":
                found = await client.get(f"{BASE}/{kind}", params={parameter["name"]: "zz"}, headers=headers)
                assert found.status_code == 200, (kind, parameter["name"], found.text)
        if "history-type" in interactions:
            fhir_json(await client.get(f"{BASE}/{kind}/_history", params={"_count": "1"}, headers=headers))
        created = await client.post(f"{BASE}/{kind}", json={"resourceType": kind}, headers=headers)
        assert (created.status_code != 405) == ("create" in interactions), (kind, created.status_code)


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN, Role.ADMIN])
async def test_every_role_may_fetch_the_metadata(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    _, headers = await signed_in(client, sessions, role)
    fhir_json(await client.get(f"{BASE}/metadata", headers=headers))


async def test_unsupported_search_parameter_is_refused_with_400(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    response = await client.get(f"{BASE}/Patient", params={"shoe-size": "44"}, headers=headers)
    issue = outcome(response, 400)
    assert issue["code"] == "not-supported"
    assert "shoe-size" in issue["diagnostics"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ({"_sort": "name"}, "_sort"),
        ({"birthdate": "sa2020"}, "sa"),
        ({"birthdate": "2020-13-45"}, "2020-13-45"),
        ({"birthdate": "2020-01-01T10:00:00"}, "offset"),
        ({"name:missing": "true"}, ":missing"),
        ({"_count": "-1"}, "_count"),
        ({"name": ""}, "empty"),
    ],
)
async def test_malformed_searches_are_400_naming_the_problem(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], query: dict, needle: str
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    issue = outcome(await client.get(f"{BASE}/Patient", params=query, headers=headers), 400)
    assert needle in issue["diagnostics"]


async def test_unknown_type_and_path_are_404_operation_outcomes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    assert outcome(await client.get(f"{BASE}/Spaceship", headers=headers), 404)["code"] == "not-found"
    outcome(await client.get(f"{BASE}/Spaceship/1", headers=headers), 404)
    outcome(await client.get(f"{BASE}/Patient/1/_history/2", headers=headers), 404)
    outcome(await client.get(f"{BASE}/Patient/not-a-uuid", headers=headers), 404)


async def test_writes_to_read_only_types_are_405_and_xml_is_406(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    response = await client.post(f"{BASE}/Schedule", json={"resourceType": "Schedule"}, headers=headers)
    assert outcome(response, 405)["code"] == "not-supported"
    response = await client.get(f"{BASE}/metadata", params={"_format": "xml"}, headers=headers)
    outcome(response, 406)
    response = await client.get(f"{BASE}/Patient", params={"_format": "json"}, headers=headers)
    fhir_json(response)


async def test_the_metadata_answers_without_a_token(client: httpx.AsyncClient) -> None:
    # FHIR clients read the CapabilityStatement before they sign in; it says nothing about patients.
    body = fhir_json(await client.get(f"{BASE}/metadata"))
    assert body["resourceType"] == "CapabilityStatement"


async def test_a_body_over_the_limit_is_an_operation_outcome(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.CLINICIAN)
    huge = b"{" + b" " * 3_000_000 + b"}"
    response = await client.post(
        f"{BASE}/Patient", content=huge, headers={**headers, "Content-Type": "application/fhir+json"}
    )
    assert outcome(response, 413)["code"] == "too-long"
