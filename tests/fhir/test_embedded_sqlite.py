"""The FHIR interface on the embedded default: SQLite and the in-process bus, every type searched."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from core.principal import Role
from core.settings import Settings
from ownat import migrate
from tests.builders import http_client
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json

pytestmark = pytest.mark.embedded

TYPES = [
    "Patient",
    "Practitioner",
    "Schedule",
    "Slot",
    "Appointment",
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "ServiceRequest",
    "DiagnosticReport",
    "Observation",
]


@pytest.fixture(scope="module")
async def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    data_dir: Path = tmp_path_factory.mktemp("fhir-sqlite")
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=data_dir,
        secret_key=secrets.token_urlsafe(48),
        log_json=False,
    )
    await migrate.upgrade_async(settings.effective_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_every_type_searches_and_reads_on_sqlite(sqlite_app: FastAPI) -> None:
    sessions = sqlite_app.state.resources.sessions
    async with http_client(sqlite_app) as client:
        user, patient_headers = await builders.patient_user(client, sessions)
        assert user.patient_id is not None
        chart = await builders.chart(sessions, user.patient_id)
        await builders.device_readings(sessions, user.patient_id)
        staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
        pid = str(user.patient_id)
        for kind in TYPES:
            fhir_json(await client.get(f"/fhir/R4/{kind}", headers=staff))
            fhir_json(await client.get(f"/fhir/R4/{kind}", headers=patient_headers))
        day = chart.appointment.start_at.date().isoformat()
        found = fhir_json(
            await client.get(
                "/fhir/R4/Appointment", params={"patient": pid, "date": f"ge{day}"}, headers=staff
            )
        )
        assert entry_ids(found) == [str(chart.appointment.id)]
        observations = fhir_json(
            await client.get(
                "/fhir/R4/Observation", params={"patient": pid, "date": f"ge{day}"}, headers=staff
            )
        )
        assert observations["total"] == 5  # two lab results, one recorded vital, two device readings
        names = fhir_json(
            await client.get(
                "/fhir/R4/Patient", params={"name": user.full_name.split()[0][:4]}, headers=staff
            )
        )
        assert pid in entry_ids(names)
        everything = fhir_json(
            await client.get(f"/fhir/R4/Patient/{pid}/$everything", headers=patient_headers)
        )
        assert everything["total"] >= 10
        fhir_json(await client.get(f"/fhir/R4/DiagnosticReport/{chart.order.id}", headers=patient_headers))


async def test_versions_writes_and_a_transaction_on_sqlite(sqlite_app: FastAPI) -> None:
    sessions = sqlite_app.state.resources.sessions
    async with http_client(sqlite_app) as client:
        staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
        patient_id = await builders.patient_record(sessions)
        json_headers = {**staff, "Content-Type": "application/fhir+json"}
        allergy = {
            "resourceType": "AllergyIntolerance",
            "patient": {"reference": f"Patient/{patient_id}"},
            "code": {"text": "Peanut"},
        }
        created = fhir_json(
            await client.post("/fhir/R4/AllergyIntolerance", json=allergy, headers=json_headers), 201
        )
        # Read twice (the second read finds the stored version), then changed: version 2.
        for _ in range(2):
            read = await client.get(f"/fhir/R4/AllergyIntolerance/{created['id']}", headers=staff)
            assert read.headers["etag"] == 'W/"1"'
        changed = {**created, "criticality": "high"}
        updated = await client.put(
            f"/fhir/R4/AllergyIntolerance/{created['id']}",
            json=changed,
            headers={**json_headers, "If-Match": 'W/"1"'},
        )
        assert fhir_json(updated)["meta"]["versionId"] == "2"
        history = fhir_json(
            await client.get(f"/fhir/R4/AllergyIntolerance/{created['id']}/_history", headers=staff)
        )
        assert history["total"] == 2
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "request": {"method": "POST", "url": "Condition"},
                    "resource": {
                        "resourceType": "Condition",
                        "subject": {"reference": f"Patient/{patient_id}"},
                        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "Q99.99"}]},
                    },
                },
                {"request": {"method": "DELETE", "url": f"AllergyIntolerance/{created['id']}"}},
            ],
        }
        failed = await client.post("/fhir/R4", json=bundle, headers=json_headers)
        assert failed.status_code == 422
        # All or nothing: the delete that ran before the failed entry was rolled back.
        assert (
            await client.get(f"/fhir/R4/AllergyIntolerance/{created['id']}", headers=staff)
        ).status_code == 200
