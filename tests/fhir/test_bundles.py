"""Batch and transaction Bundles posted to the base: references between entries resolved, a
transaction all or nothing, a batch entry by entry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.constants import ICD10
from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import fhir_json, outcome

BASE = "/fhir/R4"
Sessions = async_sessionmaker[AsyncSession]
JSON = {"Content-Type": "application/fhir+json"}


def _entries(family: str, icd10: str = "E11.9") -> list[dict[str, Any]]:
    patient_urn = f"urn:uuid:{uuid.uuid4()}"
    subject = {"reference": patient_urn}
    return [
        {
            "request": {"method": "POST", "url": "Condition"},
            "resource": {
                "resourceType": "Condition",
                "subject": subject,
                "code": {"coding": [{"system": ICD10, "code": icd10}]},
            },
        },
        {
            "request": {"method": "POST", "url": "AllergyIntolerance"},
            "resource": {"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Latex"}},
        },
        {
            "fullUrl": patient_urn,
            "request": {"method": "POST", "url": "Patient"},
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": family, "given": ["Ife"]}],
                "birthDate": "1999-09-09",
            },
        },
        {"request": {"method": "GET", "url": f"Patient?family={family}"}},
    ]


async def _patients_named(client: httpx.AsyncClient, headers: dict[str, str], family: str) -> int:
    return fhir_json(await client.get(f"{BASE}/Patient", params={"family": family}, headers=headers))["total"]


async def test_a_transaction_creates_entries_that_refer_to_each_other(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    clinician = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    family = builders.token()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": _entries(family)}
    response = fhir_json(await client.post(BASE, json=bundle, headers={**clinician, **JSON}))
    assert response["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses == ["201 Created", "201 Created", "201 Created", "200 OK"]
    patient = response["entry"][2]["resource"]
    assert response["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{patient['id']}"
    assert response["entry"][1]["resource"]["patient"]["reference"] == f"Patient/{patient['id']}"
    # The GET ran after the writes, inside the same transaction.
    assert response["entry"][3]["resource"]["total"] == 1


async def test_a_failed_transaction_leaves_nothing_behind(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    clinician = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    family = builders.token()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": _entries(family, icd10="Q99.99")}
    issue = outcome(await client.post(BASE, json=bundle, headers={**clinician, **JSON}), 422)
    assert "Entry 0" in issue["diagnostics"] and "Q99.99" in issue["diagnostics"]
    assert await _patients_named(client, clinician, family) == 0


async def test_a_batch_answers_each_entry_on_its_own(client: httpx.AsyncClient, sessions: Sessions) -> None:
    nurse = await builders.staff_headers(client, sessions, Role.NURSE)
    family = builders.token()
    entries = _entries(family)
    patient_entry = entries[2]
    patient_entry["resource"]["identifier"] = [{"system": "urn:x", "value": family}]
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": entries}
    response = fhir_json(await client.post(BASE, json=bundle, headers={**nurse, **JSON}))
    assert response["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    # A nurse may not diagnose (the Condition is refused) but records the allergy and the patient.
    assert statuses == ["403 Forbidden", "201 Created", "201 Created", "200 OK"]
    assert response["entry"][0]["response"]["outcome"]["issue"][0]["code"] == "forbidden"
    assert await _patients_named(client, nurse, family) == 1


async def test_the_base_takes_only_batches_and_transactions(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    response = await client.post(
        BASE, json={"resourceType": "Bundle", "type": "collection"}, headers={**staff, **JSON}
    )
    assert "batch or a transaction" in outcome(response, 400)["diagnostics"]
    assert (await client.post(BASE, json={}, headers=staff)).status_code != 307
