"""Writes through FHIR: each through the domain service of its REST twin (the same validation, roles
and audit), answered with the new version, If-Match and If-None-Exist, OperationOutcome on refusal."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.constants import ICD10, LOINC, OBSERVATION_CATEGORY, SERVICE_TYPE
from core.audit.models import AuditEvent
from core.principal import Role
from tests.clinical import scheduling_builders as scheduling
from tests.fhir import builders
from tests.fhir.conftest import fhir_json, outcome

BASE = "/fhir/R4"
Sessions = async_sessionmaker[AsyncSession]
JSON = {"Content-Type": "application/fhir+json"}


async def _post(
    client: httpx.AsyncClient, headers: dict[str, str], resource: dict[str, Any], **extra: str
) -> httpx.Response:
    return await client.post(
        f"{BASE}/{resource['resourceType']}", json=resource, headers={**headers, **JSON, **extra}
    )


async def _put(
    client: httpx.AsyncClient, headers: dict[str, str], resource: dict[str, Any], **extra: str
) -> httpx.Response:
    url = f"{BASE}/{resource['resourceType']}/{resource['id']}"
    return await client.put(url, json=resource, headers={**headers, **JSON, **extra})


def _patient(family: str, system: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": f"{family}-1"}],
        "name": [{"use": "official", "family": family, "given": ["Ngozi"]}],
        "gender": "female",
        "birthDate": "1990-04-02",
        "telecom": [{"system": "phone", "value": "+44 20 7946 0101"}],
    }


async def test_patient_create_conditional_create_and_update_with_if_match(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    staff = await builders.staff_headers(client, sessions, Role.NURSE)
    family, system = builders.token(), f"urn:oid:2.16.840.1.{uuid.uuid4().int % 10**8}"
    created = await _post(client, staff, _patient(family, system))
    body = fhir_json(created, 201)
    assert created.headers["location"].endswith(f"/Patient/{body['id']}/_history/1")
    assert body["meta"]["versionId"] == "1" and {i["value"] for i in body["identifier"]} >= {f"{family}-1"}

    again = await _post(
        client, staff, _patient(family, system), **{"If-None-Exist": f"identifier={system}|{family}-1"}
    )
    assert fhir_json(again, 200)["id"] == body["id"]  # found, not created twice

    changed = {**body, "telecom": [{"system": "phone", "value": "+44 20 7946 0202"}]}
    updated = await _put(client, staff, changed, **{"If-Match": 'W/"1"'})
    assert fhir_json(updated)["meta"]["versionId"] == "2" and updated.headers["etag"] == 'W/"2"'
    stale = await _put(client, staff, changed, **{"If-Match": 'W/"1"'})
    assert outcome(stale, 412)["code"] == "conflict"
    assert outcome(await client.delete(f"{BASE}/Patient/{body['id']}", headers=staff), 405)

    refused = await _post(client, staff, {**_patient(family, system), "name": [{"given": ["No family"]}]})
    assert "family" in outcome(refused, 400)["diagnostics"]


async def test_a_patient_changes_their_contact_details_but_not_their_name(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    current = fhir_json(await client.get(f"{BASE}/Patient/{user.patient_id}", headers=headers))
    moved = {**current, "address": [{"line": ["3 New Road"], "city": "Leeds", "country": "GB"}]}
    assert fhir_json(await _put(client, headers, moved))["address"][0]["city"] == "Leeds"
    renamed = {**current, "name": [{"family": "Someone-Else", "given": ["X"]}]}
    assert outcome(await _put(client, headers, renamed), 403)["code"] == "forbidden"
    assert outcome(await _post(client, headers, _patient("Z", "urn:x")), 403)


async def test_allergy_lifecycle_with_audit_and_a_concurrent_update(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    patient_id = await builders.patient_record(sessions)
    nurse = await builders.staff_headers(client, sessions, Role.NURSE)
    allergy = {
        "resourceType": "AllergyIntolerance",
        "patient": {"reference": f"Patient/{patient_id}"},
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": "91936005", "display": "Penicillin"}]
        },
        "criticality": "high",
        "reaction": [{"manifestation": [{"text": "Hives"}]}],
    }
    body = fhir_json(await _post(client, nurse, allergy), 201)
    assert body["code"]["text"] == "Penicillin" and body["clinicalStatus"]["coding"][0]["code"] == "active"
    async with sessions() as session:
        entries = list(await session.scalars(select(AuditEvent).where(AuditEvent.resource_id == body["id"])))
    assert ("create", "allergy", patient_id) in {(e.action, e.resource_type, e.patient_id) for e in entries}

    # Two updates from the same version at once: one wins, the other is told to read again.
    first = {**body, "criticality": "low"}
    second = {**body, "reaction": [{"manifestation": [{"text": "Rash"}]}]}
    answers = await asyncio.gather(
        _put(client, nurse, first, **{"If-Match": 'W/"1"'}),
        _put(client, nurse, second, **{"If-Match": 'W/"1"'}),
    )
    assert sorted(a.status_code for a in answers) in ([200, 409], [200, 412]), [a.text for a in answers]

    assert (await client.delete(f"{BASE}/AllergyIntolerance/{body['id']}", headers=nurse)).status_code == 204
    assert (
        outcome(await client.get(f"{BASE}/AllergyIntolerance/{body['id']}", headers=nurse), 410)["code"]
        == "deleted"
    )
    history = fhir_json(await client.get(f"{BASE}/AllergyIntolerance/{body['id']}/_history", headers=nurse))
    assert history["entry"][0]["request"]["method"] == "DELETE"

    _, patient_headers = await builders.patient_user(client, sessions)
    assert outcome(await _post(client, patient_headers, allergy), 403)["code"] == "forbidden"


async def test_conditions_are_icd10_problems_recorded_by_clinicians(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    patient_id = await builders.patient_record(sessions)
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": ICD10, "code": "E11.9"}]},
        "onsetDateTime": "2020-01-05",
    }
    clinician = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    body = fhir_json(await _post(client, clinician, condition), 201)
    assert (
        body["code"]["coding"][0]["display"].startswith("Type 2 diabetes")
        and body["onsetDateTime"] == "2020-01-05"
    )
    unknown = {**condition, "code": {"coding": [{"system": ICD10, "code": "Q99.99"}]}}
    assert "Q99.99" in outcome(await _post(client, clinician, unknown), 422)["diagnostics"]
    nurse = await builders.staff_headers(client, sessions, Role.NURSE)
    outcome(await _post(client, nurse, condition), 403)
    resolved = {
        **body,
        "clinicalStatus": {"coding": [{"code": "resolved"}]},
        "abatementDateTime": "2024-02-01",
    }
    assert (
        fhir_json(await _put(client, clinician, resolved))["clinicalStatus"]["coding"][0]["code"]
        == "resolved"
    )


def _vital(patient_id: Any, loinc: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


async def test_vital_signs_recorded_by_staff_and_reported_by_the_patient(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    nurse = await builders.staff_headers(client, sessions, Role.NURSE)
    temperature = fhir_json(
        await _post(client, nurse, _vital(user.patient_id, "8310-5", 98.6, "[degF]")), 201
    )
    assert temperature["valueQuantity"]["code"] == "Cel" and temperature["valueQuantity"]["value"] == 37
    reported = fhir_json(await _post(client, headers, _vital(user.patient_id, "8867-4", 64, "/min")), 201)
    assert reported["performer"] == [{"reference": f"Patient/{user.patient_id}"}]
    assert reported["method"]["text"] == "Reported by the patient"
    other = await builders.patient_record(sessions)
    outcome(await _post(client, headers, _vital(other, "8867-4", 64, "/min")), 403)
    assert (
        "impossible"
        in outcome(await _post(client, nurse, _vital(user.patient_id, "8867-4", 900, "/min")), 400)[
            "diagnostics"
        ]
    )
    laboratory = {
        **_vital(user.patient_id, "8867-4", 64, "/min"),
        "category": [{"coding": [{"code": "laboratory"}]}],
    }
    outcome(await _post(client, nurse, laboratory), 400)
    outcome(await _put(client, nurse, temperature), 405)


async def test_appointments_are_booked_on_a_slot_once_and_cancelled(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    practitioner = await scheduling.practitioner(sessions, hours=(time(9), time(11)))
    kind = await scheduling.appointment_type(sessions, duration_minutes=30)
    user, headers = await builders.patient_user(client, sessions)
    _, rival = await builders.patient_user(client, sessions)
    day = scheduling.future_day(12)
    slots = fhir_json(
        await client.get(
            f"{BASE}/Slot",
            params={
                "schedule": str(practitioner.id),
                "service-type": f"{SERVICE_TYPE}|{kind.code}",
                "start": f"ge{scheduling.at(day, 0).isoformat()}",
            },
            headers=headers,
        )
    )
    slot_id = slots["entry"][0]["resource"]["id"]
    appointment = {
        "resourceType": "Appointment",
        "slot": [{"reference": f"Slot/{slot_id}"}],
        "participant": [],
    }
    answers = await asyncio.gather(_post(client, headers, appointment), _post(client, rival, appointment))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    booked = next(a.json() for a in answers if a.status_code == 201)
    assert booked["status"] == "booked"
    cancelled = {**booked, "status": "cancelled", "cancelationReason": {"text": "Feeling better"}}
    mine = (
        user.patient_id
        if booked["participant"][0]["actor"]["reference"].endswith(str(user.patient_id))
        else None
    )
    owner = headers if mine else rival
    assert fhir_json(await _put(client, owner, cancelled))["status"] == "cancelled"
    outcome(await client.delete(f"{BASE}/Appointment/{booked['id']}", headers=owner), 405)
    fulfilled = {**booked, "status": "fulfilled"}
    outcome(await _put(client, owner, fulfilled), 400)


async def test_documents_are_stored_from_inline_attachments(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    document = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": f"Patient/{user.patient_id}"},
        "description": "Home blood pressure diary",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(pdf).decode(),
                    "title": "diary.pdf",
                }
            }
        ],
    }
    body = fhir_json(await _post(client, headers, document), 201)
    attachment = body["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf" and attachment["size"] == len(pdf)
    downloaded = await client.get(attachment["url"].removeprefix("http://ownat.test"), headers=headers)
    assert downloaded.content == pdf
    found = fhir_json(
        await client.get(
            f"{BASE}/DocumentReference", params={"patient": str(user.patient_id)}, headers=headers
        )
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [body["id"]]
    text_file = {
        **document,
        "content": [
            {"attachment": {"contentType": "text/plain", "data": base64.b64encode(b"hello").decode()}}
        ],
    }
    outcome(await _post(client, headers, text_file), 415)
    outcome(await client.delete(f"{BASE}/DocumentReference/{body['id']}", headers=headers), 403)
    staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    assert (await client.delete(f"{BASE}/DocumentReference/{body['id']}", headers=staff)).status_code == 204


@pytest.mark.parametrize("kind", ["Practitioner", "Encounter", "MedicationRequest"])
async def test_read_only_types_refuse_writes(
    client: httpx.AsyncClient, sessions: Sessions, kind: str
) -> None:
    staff = await builders.staff_headers(client, sessions, Role.ADMIN)
    assert outcome(await _post(client, staff, {"resourceType": kind}), 405)["code"] == "not-supported"
