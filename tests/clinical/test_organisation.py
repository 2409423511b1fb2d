"""Departments, practitioners, wards and beds through the API, with who may do what."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.builders import create_user, signed_in
from tests.clinical.builders import (
    create_department,
    create_practitioner,
    create_ward_with_beds,
    signed_in_patient,
    unique_name,
)
from tests.clinical.conftest import HeadersFor

API = "/api/v1"
NON_ADMINS = [Role.CLINICIAN, Role.NURSE, Role.PATIENT]


async def headers_of(
    role: Role, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    if role is Role.PATIENT:
        return (await signed_in_patient(client, sessions))[1]
    return (await signed_in(client, sessions, role))[1]


async def test_an_admin_creates_and_changes_departments(
    client: httpx.AsyncClient, headers_for: HeadersFor
) -> None:
    admin = await headers_for(Role.ADMIN)
    code = unique_name("c")
    created = await client.post(
        f"{API}/departments", json={"code": code, "name": unique_name("Cardiology ")}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json()["code"] == code.upper()
    department_id = created.json()["id"]
    duplicate = await client.post(
        f"{API}/departments", json={"code": code, "name": unique_name("X")}, headers=admin
    )
    assert duplicate.status_code == 409
    renamed = await client.patch(f"{API}/departments/{department_id}", json={"active": False}, headers=admin)
    assert renamed.json()["active"] is False
    listed = (await client.get(f"{API}/departments", headers=admin)).json()
    assert department_id not in [d["id"] for d in listed]
    everything = (
        await client.get(f"{API}/departments", params={"include_inactive": True}, headers=admin)
    ).json()
    assert department_id in [d["id"] for d in everything]


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_only_admins_change_the_structure(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    headers = await headers_of(role, client, sessions)
    department = await create_department(sessions)
    ward, beds = await create_ward_with_beds(sessions, beds=1)
    attempts = [
        ("POST", f"{API}/departments", {"code": unique_name("d"), "name": unique_name("D")}),
        ("PATCH", f"{API}/departments/{department.id}", {"name": "X"}),
        ("POST", f"{API}/practitioners", {"given_name": "A", "family_name": "B"}),
        (
            "POST",
            f"{API}/wards",
            {"department_id": str(department.id), "code": unique_name("w"), "name": "W"},
        ),
        ("PATCH", f"{API}/wards/{ward.id}", {"name": "X"}),
        ("POST", f"{API}/wards/{ward.id}/beds", {"label": "Z9"}),
        ("PATCH", f"{API}/beds/{beds[0].id}", {"active": False}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        response = await client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)


async def test_wards_and_beds_are_for_staff(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    ward, _ = await create_ward_with_beds(sessions, beds=2)
    _, patient_headers = await signed_in_patient(client, sessions)
    for path in (
        f"{API}/wards",
        f"{API}/wards/{ward.id}",
        f"{API}/wards/{ward.id}/beds",
        f"{API}/wards/{ward.id}/census",
    ):
        assert (await client.get(path, headers=patient_headers)).status_code == 403, path
        assert (await client.get(path)).status_code == 401, path
    nurse = await headers_for(Role.NURSE)
    beds = (await client.get(f"{API}/wards/{ward.id}/beds", headers=nurse)).json()
    assert [b["label"] for b in beds] == ["B1", "B2"]


async def test_an_admin_builds_a_ward_with_beds(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    admin = await headers_for(Role.ADMIN)
    department = await create_department(sessions)
    ward = await client.post(
        f"{API}/wards",
        json={"department_id": str(department.id), "code": unique_name("icu"), "name": "ICU"},
        headers=admin,
    )
    assert ward.status_code == 201, ward.text
    ward_id = ward.json()["id"]
    assert (
        await client.post(f"{API}/wards/{ward_id}/beds", json={"label": "1"}, headers=admin)
    ).status_code == 201
    assert (
        await client.post(f"{API}/wards/{ward_id}/beds", json={"label": "1"}, headers=admin)
    ).status_code == 409
    unknown_department = {
        "department_id": "00000000-0000-4000-8000-000000000009",
        "code": unique_name("x"),
        "name": "X",
    }
    missing = await client.post(f"{API}/wards", json=unknown_department, headers=admin)
    assert missing.status_code == 422
    assert missing.json()["code"] == "unknown-reference"
    assert (
        await client.get(f"{API}/wards/00000000-0000-4000-8000-000000000009", headers=admin)
    ).status_code == 404


async def test_practitioners_are_listed_by_specialty_and_department(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    department = await create_department(sessions)
    specialty = unique_name("spec").lower()
    cardiologist, _, _ = await create_practitioner(sessions, specialties=(specialty, "internal-medicine"))
    colleague, _, _ = await create_practitioner(
        sessions, specialties=("dermatology",), department_id=department.id
    )
    _, patient_headers = await signed_in_patient(client, sessions)
    by_specialty = (
        await client.get(
            f"{API}/practitioners", params={"specialty": specialty.upper()}, headers=patient_headers
        )
    ).json()
    assert [p["id"] for p in by_specialty] == [str(cardiologist.id)]
    assert by_specialty[0]["specialties"] == sorted([specialty, "internal-medicine"])
    by_department = (
        await client.get(
            f"{API}/practitioners", params={"department_id": str(department.id)}, headers=patient_headers
        )
    ).json()
    assert [p["id"] for p in by_department] == [str(colleague.id)]
    assert (await client.get(f"{API}/practitioners")).status_code == 401


async def test_an_admin_creates_and_updates_a_practitioner(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    admin = await headers_for(Role.ADMIN)
    nurse_user, _ = await create_user(sessions, role=Role.NURSE)
    body = {
        "user_id": str(nurse_user.id),
        "given_name": "Mary",
        "family_name": unique_name("Seacole"),
        "specialties": ["Critical-Care", "critical-care"],
        "qualifications": [{"code": "RN", "display": "Registered Nurse", "issuer": "NMC", "year": 2010}],
    }
    created = await client.post(f"{API}/practitioners", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["specialties"] == ["critical-care"]
    practitioner_id = created.json()["id"]
    assert (await client.post(f"{API}/practitioners", json=body, headers=admin)).status_code == 409
    changed = await client.patch(
        f"{API}/practitioners/{practitioner_id}",
        json={"specialties": ["critical-care", "triage"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["specialties"] == ["critical-care", "triage"]
    fetched = await client.get(f"{API}/practitioners/{practitioner_id}", headers=admin)
    assert fetched.json()["qualifications"][0]["code"] == "RN"


async def test_a_practitioner_must_link_a_clinicians_or_nurses_account(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    admin = await headers_for(Role.ADMIN)
    patient_user, _ = await create_user(sessions, role=Role.PATIENT)
    body = {"user_id": str(patient_user.id), "given_name": "No", "family_name": "Body"}
    response = await client.post(f"{API}/practitioners", json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "unknown-reference"
    future = {"given_name": "A", "family_name": "B", "qualifications": [{"code": "MD", "year": 2999}]}
    assert (await client.post(f"{API}/practitioners", json=future, headers=admin)).status_code == 422
