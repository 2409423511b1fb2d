"""Bulk Data `$export` of a Group (a ward): kick-off, polling, the worker's run, NDJSON files whose every
line validates with `fhir.resources`, and only the ward's patients in them; `_type`, cancel, refusals."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.bulk.runner import ExportRunner
from core.db import utc_now
from core.principal import Role
from core.resources import Resources
from tests.clinical.builders import admit, audit_trail, create_ward_with_beds
from tests.fhir.builders import chart, device_readings, patient_record, staff_headers
from tests.fhir.conftest import outcome, validate_resource
from tests.smart.smart_support import BackendKey, admin_headers, backend_token, bearer, register_app

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


async def _ward_of_two(sessions: async_sessionmaker[AsyncSession]) -> tuple[uuid.UUID, set[uuid.UUID]]:
    ward, beds = await create_ward_with_beds(sessions, beds=2)
    admitted = set()
    for bed in beds:
        patient_id = await patient_record(sessions)
        await chart(sessions, patient_id)
        await device_readings(sessions, patient_id, count=3)
        await admit(sessions, patient_id=patient_id, bed_id=bed.id)
        admitted.add(patient_id)
    return ward.id, admitted


async def _run_to_the_end(
    client: httpx.AsyncClient, resources: Resources, status_url: str, headers: dict[str, str]
) -> httpx.Response:
    """Runs the worker's export job until the export is no longer in progress; its last status answer.

    Batches of two rows, so that every type streams over several batches."""
    resources = dataclasses.replace(
        resources, settings=resources.settings.model_copy(update={"fhir_export_batch": 2})
    )
    runner = ExportRunner()
    for _ in range(50):  # each pass runs one queued export to its end: a guard, not a timing
        answer = await client.get(status_url, headers=headers)
        if answer.status_code != 202:
            return answer
        await runner(resources, now=utc_now())
        if runner.running is not None:
            await runner.running
    raise AssertionError("the export never finished")


def _references(resource: dict[str, Any]) -> set[str]:
    found = set()
    for key in ("subject", "patient"):
        value = resource.get(key)
        if isinstance(value, dict) and value.get("reference", "").startswith("Patient/"):
            found.add(value["reference"])
    return found


async def test_a_ward_export_holds_only_its_patients_and_every_line_validates(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], resources: Resources
) -> None:
    headers = await staff_headers(client, sessions, Role.ADMIN)
    ward_id, admitted = await _ward_of_two(sessions)
    outsider = await patient_record(sessions)
    await chart(sessions, outsider)

    kick_off = await client.get(f"/fhir/R4/Group/{ward_id}/$export", headers={**headers, **ASYNC})
    assert kick_off.status_code == 202, kick_off.text
    status_url = kick_off.headers["content-location"]
    waiting = await client.get(status_url, headers=headers)
    assert waiting.status_code == 202 and waiting.headers["retry-after"] and waiting.headers["x-progress"]

    done = await _run_to_the_end(client, resources, status_url, headers)
    assert done.status_code == 200, done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["request"].endswith("$export")
    types = {item["type"] for item in manifest["output"]}
    assert {"Patient", "Observation", "Condition", "Encounter", "AllergyIntolerance"} <= types
    patients_seen: set[str] = set()
    for item in manifest["output"]:
        answer = await client.get(item["url"], headers=headers)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(
            "application/fhir+ndjson"
        )
        lines = answer.text.splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            resource = json.loads(line)
            validate_resource(resource)
            assert resource["resourceType"] == item["type"]
            if resource["resourceType"] == "Patient":
                patients_seen.add(f"Patient/{resource['id']}")
            patients_seen |= _references(resource)
    assert patients_seen == {f"Patient/{patient_id}" for patient_id in admitted}
    for patient_id in admitted:
        assert ("fhir.export.complete", "fhir.export", "success") in await audit_trail(
            sessions, patient_id=patient_id
        )
    assert ("fhir.export.complete", "fhir.export", "success") not in await audit_trail(
        sessions, patient_id=outsider
    )


async def test_type_narrows_an_export_and_cancel_removes_it(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], resources: Resources
) -> None:
    headers = await staff_headers(client, sessions, Role.ADMIN)
    ward_id, _ = await _ward_of_two(sessions)
    kick_off = await client.get(
        f"/fhir/R4/Group/{ward_id}/$export",
        params={"_type": "Patient,AllergyIntolerance"},
        headers={**headers, **ASYNC},
    )
    done = await _run_to_the_end(client, resources, kick_off.headers["content-location"], headers)
    assert {item["type"]: item["count"] for item in done.json()["output"]} == {
        "Patient": 2,
        "AllergyIntolerance": 2,
    }

    again = await client.get(f"/fhir/R4/Group/{ward_id}/$export", headers={**headers, **ASYNC})
    status_url = again.headers["content-location"]
    assert (await client.delete(status_url, headers=headers)).status_code == 202
    outcome(await client.get(status_url, headers=headers), 404)


async def test_only_administrators_or_system_clients_export_and_bad_requests_name_the_parameter(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    nurse = await staff_headers(client, sessions, Role.NURSE)
    outcome(await client.get("/fhir/R4/Patient/$export", headers={**nurse, **ASYNC}), 403)
    admin = await staff_headers(client, sessions, Role.ADMIN)
    issue = outcome(
        await client.get("/fhir/R4/$export", params={"_type": "Slot"}, headers={**admin, **ASYNC}), 400
    )
    assert "_type" in issue["diagnostics"]
    issue = outcome(
        await client.get("/fhir/R4/$export", params={"_typeFilter": "x"}, headers={**admin, **ASYNC}), 400
    )
    assert "_typeFilter" in issue["diagnostics"]
    issue = outcome(await client.get("/fhir/R4/$export", headers=admin), 400)
    assert "Prefer" in issue["diagnostics"]
    outcome(await client.get(f"/fhir/R4/Group/{uuid.uuid4()}/$export", headers={**admin, **ASYNC}), 404)


async def test_a_backend_client_exports_only_what_its_scopes_may_read(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], resources: Resources
) -> None:
    admin = await admin_headers(client, sessions)
    key = BackendKey.new("ES384")
    app = await register_app(client, admin, scopes="system/*.rs", client_type="backend", jwks=key.jwks())
    token = await backend_token(
        client, app["client_id"], key, "system/Patient.rs system/AllergyIntolerance.rs"
    )
    headers = bearer(token.json()["access_token"])
    ward_id, _ = await _ward_of_two(sessions)

    refused = await client.get(
        f"/fhir/R4/Group/{ward_id}/$export", params={"_type": "Observation"}, headers={**headers, **ASYNC}
    )
    assert "Observation" in outcome(refused, 403)["diagnostics"]

    kick_off = await client.get(f"/fhir/R4/Group/{ward_id}/$export", headers={**headers, **ASYNC})
    assert kick_off.status_code == 202, kick_off.text
    done = await _run_to_the_end(client, resources, kick_off.headers["content-location"], headers)
    assert done.status_code == 200, done.text
    output = done.json()["output"]
    assert {item["type"] for item in output} == {"Patient", "AllergyIntolerance"}
    for item in output:
        lines = (await client.get(item["url"], headers=headers)).text.splitlines()
        assert len(lines) == item["count"] == 2
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == item["type"]
            validate_resource(resource)
