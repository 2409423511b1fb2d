"""A patient's chart through the API: identifiers, allergies, conditions (ICD-10), medications."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.principal import Role
from tests.clinical.builders import audit_trail, create_patient, signed_in_patient, unique_name
from tests.clinical.conftest import HeadersFor

NO_ONE = "00000000-0000-4000-8000-0000000000ff"


def base(patient_id: object) -> str:
    return f"/api/v1/patients/{patient_id}"


async def test_a_clinician_records_a_condition_coded_in_icd10(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions)
    headers = await headers_for(Role.CLINICIAN)
    response = await client.post(
        f"{base(patient.id)}/conditions",
        json={"icd10_code": "e119", "onset_date": "2019-04-01"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["icd10_code"], body["clinical_status"]) == ("E11.9", "active")
    assert "diabetes" in body["display"].lower()
    listed = await client.get(f"{base(patient.id)}/conditions", headers=headers)
    assert [c["id"] for c in listed.json()] == [body["id"]]
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert ("create", "condition", "success") in trail
    assert ("read", "condition", "success") in trail


@pytest.mark.parametrize("code", ["Z99.99", "E11.X", "A00-B99", "banana"])
async def test_an_unknown_icd10_code_is_422_naming_the_code(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor, code: str
) -> None:
    patient = await create_patient(sessions)
    response = await client.post(
        f"{base(patient.id)}/conditions", json={"icd10_code": code}, headers=await headers_for(Role.CLINICIAN)
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown-icd10-code"
    assert problem["icd10_code"] == code
    assert code in problem["detail"]


async def test_condition_dates_must_be_plausible(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions)
    headers = await headers_for(Role.CLINICIAN)
    future = (utc_now() + timedelta(days=3)).date().isoformat()
    url = f"{base(patient.id)}/conditions"
    assert (
        await client.post(url, json={"icd10_code": "I10", "onset_date": future}, headers=headers)
    ).status_code == 422
    backwards = {"icd10_code": "I10", "onset_date": "2020-05-01", "abatement_date": "2020-04-01"}
    response = await client.post(url, json=backwards, headers=headers)
    assert response.status_code == 422
    assert "before onset" in response.text
    created = (
        await client.post(url, json={"icd10_code": "I10", "onset_date": "2020-05-01"}, headers=headers)
    ).json()
    patched = await client.patch(
        f"{url}/{created['id']}", json={"abatement_date": "2020-01-01"}, headers=headers
    )
    assert patched.status_code == 422
    assert patched.json()["code"] == "implausible-dates"


async def test_only_clinicians_record_conditions(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient, patient_headers = await signed_in_patient(client, sessions)
    url = f"{base(patient.id)}/conditions"
    for role in (Role.NURSE, Role.ADMIN):
        assert (
            await client.post(url, json={"icd10_code": "I10"}, headers=await headers_for(role))
        ).status_code == 403
    assert (await client.post(url, json={"icd10_code": "I10"}, headers=patient_headers)).status_code == 403
    assert (await client.post(url, json={"icd10_code": "I10"})).status_code == 401


async def test_a_patient_reads_their_own_chart_but_not_anothers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    other = await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    await client.post(f"{base(patient.id)}/allergies", json={"substance_text": "Penicillin"}, headers=nurse)
    for resource in ("identifiers", "allergies", "conditions", "medications"):
        own = await client.get(f"{base(patient.id)}/{resource}", headers=headers)
        assert own.status_code == 200, resource
        assert (await client.get(f"{base(other.id)}/{resource}", headers=headers)).status_code == 403, (
            resource
        )
        assert (await client.get(f"{base(patient.id)}/{resource}")).status_code == 401, resource
    assert [
        a["substance_text"]
        for a in (await client.get(f"{base(patient.id)}/allergies", headers=headers)).json()
    ] == ["Penicillin"]


async def test_allergies_are_recorded_changed_and_removed_by_status(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient, patient_headers = await signed_in_patient(client, sessions)
    nurse = await headers_for(Role.NURSE)
    url = f"{base(patient.id)}/allergies"
    body = {"substance_text": "Peanut", "category": "food", "criticality": "high", "reaction": "Anaphylaxis"}
    created = await client.post(url, json=body, headers=nurse)
    assert created.status_code == 201, created.text
    allergy_id = created.json()["id"]
    assert (await client.post(url, json=body, headers=patient_headers)).status_code == 403
    assert (await client.post(url, json=body, headers=await headers_for(Role.ADMIN))).status_code == 403
    patched = await client.patch(f"{url}/{allergy_id}", json={"criticality": "low"}, headers=nurse)
    assert patched.json()["criticality"] == "low"
    assert (
        await client.patch(f"{url}/{allergy_id}", json={"criticality": "extreme"}, headers=nurse)
    ).status_code == 422
    assert (await client.delete(f"{url}/{allergy_id}", headers=patient_headers)).status_code == 403
    assert (await client.delete(f"{url}/{allergy_id}", headers=nurse)).status_code == 204
    assert (await client.get(url, headers=nurse)).json() == []
    removed = (await client.get(url, params={"include_removed": True}, headers=nurse)).json()
    assert [a["status"] for a in removed] == ["entered-in-error"]
    assert (await client.get(url, params={"include_removed": True}, headers=patient_headers)).json() == []
    assert ("delete", "allergy", "success") in await audit_trail(sessions, patient_id=patient.id)


async def test_a_record_of_another_patient_is_not_found_through_this_one(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    first, second = await create_patient(sessions), await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    created = await client.post(
        f"{base(first.id)}/allergies", json={"substance_text": "Latex"}, headers=nurse
    )
    response = await client.patch(
        f"{base(second.id)}/allergies/{created.json()['id']}", json={"criticality": "low"}, headers=nurse
    )
    assert response.status_code == 404
    assert (await client.delete(f"{base(first.id)}/allergies/{NO_ONE}", headers=nurse)).status_code == 404


async def test_medications_are_recorded_and_stopped(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    url = f"{base(patient.id)}/medications"
    body = {
        "name": "Metformin",
        "dose_text": "500 mg twice daily",
        "route": "oral",
        "started_on": "2021-01-10",
    }
    created = await client.post(url, json=body, headers=nurse)
    assert created.status_code == 201, created.text
    medication_id = created.json()["id"]
    backwards = await client.patch(f"{url}/{medication_id}", json={"stopped_on": "2020-01-01"}, headers=nurse)
    assert backwards.status_code == 422
    stopped = await client.patch(
        f"{url}/{medication_id}", json={"status": "stopped", "stopped_on": "2022-02-01"}, headers=nurse
    )
    assert stopped.json()["status"] == "stopped"
    assert (
        await client.post(url, json={"name": "X", "started_on": "2023-02-29"}, headers=nurse)
    ).status_code == 422
    assert ("update", "medication", "success") in await audit_trail(sessions, patient_id=patient.id)


async def test_identifiers_are_unique_per_system(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    first, second = await create_patient(sessions), await create_patient(sessions)
    admin = await headers_for(Role.ADMIN)
    value = unique_name("NHS")
    nhs = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": value, "type_text": "NHS number"}
    created = await client.post(f"{base(first.id)}/identifiers", json=nhs, headers=admin)
    assert created.status_code == 201, created.text
    taken = await client.post(f"{base(second.id)}/identifiers", json=nhs, headers=admin)
    assert taken.status_code == 409
    assert taken.json()["code"] == "identifier-taken"
    other_system = {**nhs, "system": "urn:oid:1.2.3.4"}
    assert (
        await client.post(f"{base(second.id)}/identifiers", json=other_system, headers=admin)
    ).status_code == 201
    assert (
        await client.post(f"{base(second.id)}/identifiers", json={**nhs, "system": "nope"}, headers=admin)
    ).status_code == 422
    identifier_id = created.json()["id"]
    renamed = await client.patch(
        f"{base(first.id)}/identifiers/{identifier_id}", json={"value": value + "X"}, headers=admin
    )
    assert renamed.json()["value"] == value + "X"
    assert (
        await client.delete(f"{base(first.id)}/identifiers/{identifier_id}", headers=admin)
    ).status_code == 204
    assert (await client.get(f"{base(first.id)}/identifiers", headers=admin)).json() == []
    trail = await audit_trail(sessions, patient_id=first.id)
    assert {("create", "patient-identifier", "success"), ("delete", "patient-identifier", "success")} <= set(
        trail
    )


async def test_a_patient_may_not_add_identifiers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    body = {"system": "urn:oid:1.2.3.4", "value": unique_name("V")}
    assert (
        await client.post(f"{base(patient.id)}/identifiers", json=body, headers=headers)
    ).status_code == 403
