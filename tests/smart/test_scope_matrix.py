"""Scopes only narrow: each row grants an app some scopes and checks what it may and may not do,
on top of the user's role and patient scope (the same checks without an app are the role tests').

`{a}` is the patient the app is launched with, `{b}` another patient; the user is a clinician
unless the row says otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from tests.builders import signed_in
from tests.fhir import builders
from tests.smart.smart_support import admin_headers, app_token, bearer, register_app


def allergy(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": f"Patient/{patient}"},
        "code": {"text": "Latex"},
    }


@dataclass(frozen=True)
class Case:
    scope: str
    checks: tuple[tuple[str, str, int], ...]  # (method, path, expected status)
    role: Role = Role.CLINICIAN


CASES = {
    "patient Observation.rs": Case(
        "launch/patient patient/Observation.rs",
        (
            ("GET", "Observation?patient={a}", 200),
            ("GET", "Observation/{a_obs}", 200),
            ("GET", "Observation/{b_obs}", 403),
            ("GET", "Patient/{a}", 403),
            ("GET", "Condition?patient={a}", 403),
            ("GET", "Patient/{a}/$everything", 403),
            ("POST", "AllergyIntolerance:{a}", 403),
        ),
    ),
    "patient *.rs": Case(
        "launch/patient patient/*.rs",
        (
            ("GET", "Patient/{a}", 200),
            ("GET", "Patient/{b}", 403),
            ("GET", "Patient/{a}/$everything", 200),
            ("GET", "Patient/{b}/$everything", 403),
            ("GET", "Observation/{b_obs}", 403),
            ("GET", "Patient/{a}/_history", 200),
            ("POST", "AllergyIntolerance:{a}", 403),
        ),
    ),
    "patient read (v1)": Case(
        "launch/patient patient/*.read",
        (("GET", "Patient/{a}", 200), ("GET", "Patient/{b}", 403), ("POST", "AllergyIntolerance:{a}", 403)),
    ),
    "patient AllergyIntolerance.cruds": Case(
        "launch/patient patient/AllergyIntolerance.cruds",
        (
            ("POST", "AllergyIntolerance:{a}", 201),
            ("POST", "AllergyIntolerance:{b}", 403),
            ("GET", "Patient/{a}", 403),
        ),
    ),
    "user *.rs": Case(
        "user/*.rs",
        (
            ("GET", "Patient/{a}", 200),
            ("GET", "Patient/{b}", 200),
            ("GET", "Observation/{b_obs}", 200),
            ("POST", "AllergyIntolerance:{b}", 403),
        ),
    ),
    "user write (v1)": Case(
        "user/AllergyIntolerance.write user/Patient.read",
        (
            ("POST", "AllergyIntolerance:{b}", 201),
            ("GET", "Patient/{b}", 200),
            ("GET", "Patient?_id={b}", 200),
        ),
    ),
    "user *.rs for a patient": Case(
        "user/*.rs",
        (("GET", "Patient/{own}", 200), ("GET", "Patient/{b}", 403), ("GET", "Observation/{b_obs}", 403)),
        role=Role.PATIENT,
    ),
}


async def _observation_id(client, headers: dict[str, str], patient_id: uuid.UUID) -> str:
    bundle = (
        await client.get("/fhir/R4/Observation", params={"patient": str(patient_id)}, headers=headers)
    ).json()
    return bundle["entry"][0]["resource"]["id"]


@pytest.mark.parametrize("name", list(CASES))
async def test_scopes_narrow_what_the_user_may_do(client, sessions, name: str) -> None:
    case = CASES[name]
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes=case.scope)
    a = await builders.patient_record(sessions)
    b = await builders.patient_record(sessions)
    await builders.device_readings(sessions, a, count=1)
    await builders.device_readings(sessions, b, count=1)
    if case.role is Role.PATIENT:
        user, headers = await builders.patient_user(client, sessions)
        own = user.patient_id
        await builders.device_readings(sessions, own, count=1)
    else:
        _, headers = await signed_in(client, sessions, case.role)
        own = None
    staff = await builders.staff_headers(client, sessions, Role.NURSE)
    values = {
        "a": str(a),
        "b": str(b),
        "own": str(own),
        "a_obs": await _observation_id(client, staff, a),
        "b_obs": await _observation_id(client, staff, b),
    }
    launch_patient = a if "launch/patient" in case.scope else None
    tokens = await app_token(client, headers, app["client_id"], case.scope, patient_id=launch_patient)
    app_headers = {**bearer(tokens["access_token"]), "Content-Type": "application/fhir+json"}
    for method, template, expected in case.checks:
        target = template.format(**values)
        if method == "POST":
            resource_type, _, patient = target.partition(":")
            response = await client.post(
                f"/fhir/R4/{resource_type}", json=allergy(patient), headers=app_headers
            )
        else:
            response = await client.get(f"/fhir/R4/{target}", headers=app_headers)
        assert response.status_code == expected, f"{name}: {method} {target}: {response.text[:300]}"


async def test_searches_and_includes_keep_to_the_launch_patient_and_granted_types(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    scope = "launch/patient patient/Observation.rs"
    app = await register_app(client, admin, scopes=scope)
    a = await builders.patient_record(sessions)
    b = await builders.patient_record(sessions)
    await builders.device_readings(sessions, a)
    await builders.device_readings(sessions, b)
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    tokens = await app_token(client, nurse, app["client_id"], scope, patient_id=a)
    headers = bearer(tokens["access_token"])
    other = (await client.get("/fhir/R4/Observation", params={"patient": str(b)}, headers=headers)).json()
    assert other["total"] == 0
    own = (
        await client.get(
            "/fhir/R4/Observation",
            params={"patient": str(a), "_include": "Observation:patient"},
            headers=headers,
        )
    ).json()
    assert {e["resource"]["resourceType"] for e in own["entry"]} == {"Observation"}  # no Patient scope


async def test_refusals_by_scope_are_audited(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Observation.rs")
    a = await builders.patient_record(sessions)
    user, nurse = await signed_in(client, sessions, Role.NURSE)
    tokens = await app_token(client, nurse, app["client_id"], "user/Observation.rs")
    response = await client.get(f"/fhir/R4/Patient/{a}", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert "no scope to read Patient" in response.json()["issue"][0]["diagnostics"]
    async with sessions() as session:
        outcomes = list(
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.actor_id == user.id,
                    AuditEvent.action == "fhir.read",
                    AuditEvent.resource_id == str(a),
                )
            )
        )
    assert outcomes == ["denied"]


async def test_each_entry_of_a_batch_is_checked_against_the_scopes(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    patient_id = await builders.patient_record(sessions)
    _, clinician = await signed_in(client, sessions, Role.CLINICIAN)
    tokens = await app_token(client, clinician, app["client_id"], "user/Patient.rs")
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{patient_id}"}},
            {
                "request": {"method": "POST", "url": "AllergyIntolerance"},
                "resource": allergy(str(patient_id)),
            },
        ],
    }
    headers = {**bearer(tokens["access_token"]), "Content-Type": "application/fhir+json"}
    answer = (await client.post("/fhir/R4", json=batch, headers=headers)).json()
    assert [entry["response"]["status"].split()[0] for entry in answer["entry"]] == ["200", "403"]
