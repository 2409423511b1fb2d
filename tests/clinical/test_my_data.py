"""My data over HTTP: the whole record as FHIR and as a readable PDF, who opened it (staff by name, role
and department), requests answered by an administrator, erasure within the law's retention; who may
do each (403 per role), and the audit trail."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Department, Practitioner
from clinical.privacy.models import ProcessingRestriction
from core.audit.models import AuditEvent
from core.identity.models import User
from core.outbox import EventType, OutboxEvent
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from notifications.models import Notification
from tests.builders import login
from tests.clinical import builders as clinical
from tests.clinical.scheduling_builders import account
from tests.fhir.builders import chart
from tests.notifications.builders import deactivate, notification_settings, record_event, subscription, worker
from tests.notifications.servers import HttpRecorder


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def clinician_in(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, name: str
) -> tuple[User, dict[str, str], str]:
    """A clinician who signs in, named `name`, in a new department; returns the department's name too."""
    user, headers = await account(sessions, settings, Role.CLINICIAN)
    department = clinical.unique_name("Cardiology ")
    async with transaction(sessions) as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.full_name = name
        dept = Department(code=clinical.unique_name("C").upper(), name=department)
        session.add(dept)
        await session.flush()
        session.add(
            Practitioner(user_id=user.id, given_name="Amara", family_name="Okafor", department_id=dept.id)
        )
    return user, headers, department


async def test_a_patient_downloads_the_whole_record_and_nobody_else_does(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    assert patient.patient_id is not None
    await chart(sessions, patient.patient_id)
    url = f"/api/v1/patients/{patient.patient_id}/record"
    fhir = await client.get(url, params={"format": "fhir"}, headers=headers)
    assert fhir.status_code == 200 and fhir.headers["content-type"].startswith("application/fhir+json")
    assert "health-record-MRN-" in fhir.headers["content-disposition"]
    bundle = fhir.json()
    assert bundle["resourceType"] == "Bundle" and bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert {"Condition", "AllergyIntolerance", "MedicationRequest", "Observation"} <= {
        e["resource"]["resourceType"] for e in bundle["entry"]
    }
    pdf = await client.get(url, headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert f"Health record of {patient.full_name}" in text.replace("\n", " ")
    for heading in ("Problems and diagnoses", "Allergies", "Prescriptions", "Test results", "Vital signs"):
        assert heading in text

    _, other_headers = await account(sessions, settings, Role.PATIENT)
    assert (await client.get(url, headers=other_headers)).status_code == 403
    assert (await client.get(url)).status_code == 401
    async with sessions() as session:
        exports = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "export",
                AuditEvent.patient_id == patient.patient_id,
                AuditEvent.actor_id == patient.id,
            )
        )
    assert exports == 2


async def test_the_patient_sees_which_clinician_opened_their_record(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    _, clinician_headers, department = await clinician_in(sessions, settings, "Dr Amara Okafor")
    base = f"/api/v1/patients/{patient.patient_id}"
    await client.get(f"{base}/allergies", headers=headers)  # the patient's own reads are not listed
    assert (await client.get(f"{base}/allergies", headers=clinician_headers)).status_code == 200
    assert (await client.get(f"{base}/conditions", headers=clinician_headers)).status_code == 200
    log = await client.get(f"{base}/access-log", headers=headers)
    assert log.status_code == 200, log.text
    (visit,) = log.json()["visits"]
    assert (visit["actor_name"], visit["role"], visit["department"]) == (
        "Dr Amara Okafor",
        "clinician",
        department,
    )
    assert {"allergies", "conditions"} <= set(visit["viewed"])
    # Who looked is for the patient and administrators, not for other staff or patients.
    assert (await client.get(f"{base}/access-log", headers=clinician_headers)).status_code == 403
    _, other_headers = await account(sessions, settings, Role.PATIENT)
    assert (await client.get(f"{base}/access-log", headers=other_headers)).status_code == 403


async def test_a_correction_request_is_answered_by_an_administrator(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    _, admin_headers = await account(sessions, settings, Role.ADMIN)
    _, clinician_headers = await account(sessions, settings, Role.CLINICIAN)
    details = "My allergy is to penicillin, not to peanuts."
    filed = await client.post(
        f"/api/v1/patients/{patient.patient_id}/data-requests",
        json={"kind": "correction", "details": details},
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    assert (await client.get("/api/v1/data-requests", headers=clinician_headers)).status_code == 403
    assert (await client.get("/api/v1/data-requests", headers=headers)).status_code == 403
    queue = (
        await client.get("/api/v1/data-requests", params={"status": "open"}, headers=admin_headers)
    ).json()
    mine = next(r for r in queue if r["id"] == request_id)
    assert mine["details"] == details and mine["mrn"].startswith("MRN-")
    answer = {
        "response": "Corrected by Dr Morgan: penicillin allergy recorded, peanut entry marked in error."
    }
    done = await client.post(
        f"/api/v1/data-requests/{request_id}/complete", json=answer, headers=admin_headers
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = await client.post(
        f"/api/v1/data-requests/{request_id}/refuse", json=answer, headers=admin_headers
    )
    assert again.status_code == 409
    seen = (await client.get(f"/api/v1/patients/{patient.patient_id}/data-requests", headers=headers)).json()
    assert [(r["status"], r["response"]) for r in seen] == [("completed", answer["response"])]
    async with sessions() as session:
        told = await session.scalar(
            select(func.count()).where(
                OutboxEvent.event_type == EventType.DATA_REQUEST_ANSWERED,
                OutboxEvent.payload["request_id"].as_string() == request_id,
            )
        )
        steps = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.resource_id == request_id).order_by(AuditEvent.seq)
            )
        )
    assert told == 1 and steps[0] == "create" and "answer" in steps


async def test_erasure_erases_the_account_and_restricts_what_the_law_keeps(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings, resources
) -> None:
    user, patient, password = await clinical.create_patient_user(sessions)
    headers = await login(client, user.email, password)
    await chart(sessions, patient.id)
    _, admin_headers = await account(sessions, settings, Role.ADMIN)
    filed = await client.post(
        f"/api/v1/patients/{patient.id}/data-requests",
        json={"kind": "erasure", "details": "I am moving abroad; please erase my data."},
        headers=headers,
    )
    request_id = filed.json()["id"]
    plan = (
        await client.get(f"/api/v1/data-requests/{request_id}/erasure-plan", headers=admin_headers)
    ).json()
    actions = {decision["action"] for decision in plan}
    assert actions == {"erase", "restrict", "keep"}
    kept = next(d for d in plan if d["action"] == "restrict")
    assert "Medical record" in kept["category"] and kept["until"][:4] >= str(patient.created_at.year + 10)

    done = await client.post(
        f"/api/v1/data-requests/{request_id}/complete",
        json={"response": "Erased what the law allows; the rest is restricted."},
        headers=admin_headers,
    )
    assert done.status_code == 200, done.text
    assert [d["action"] for d in done.json()["outcome"]] == [d["action"] for d in plan]
    refused = await client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    assert refused.status_code == 401
    restriction = await client.get(f"/api/v1/patients/{patient.id}/restriction", headers=admin_headers)
    assert restriction.json()["retain_until"] == kept["until"]
    async with sessions() as session:
        erased = await session.get(User, user.id)
        assert erased is not None and not erased.is_active and erased.email.endswith("@erased.invalid")
        assert await session.scalar(select(func.count()).where(Notification.user_id == user.id)) == 0
        told = await session.scalar(
            select(OutboxEvent).where(
                OutboxEvent.event_type == EventType.ACCOUNT_ERASED,
                OutboxEvent.payload["email"].as_string() == user.email,
            )
        )
        assert told is not None and told.payload["kept_until"] == kept["until"][:10]
        assert await session.get(ProcessingRestriction, patient.id) is not None
        steps = set(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.patient_id == patient.id, AuditEvent.outcome == "success"
                )
            )
        )
    assert {"restrict", "erase", "answer"} <= steps


async def test_a_restricted_record_is_told_to_no_outside_system(
    sessions: async_sessionmaker[AsyncSession], resources
) -> None:
    patient_id = (await clinical.create_patient(sessions)).id
    admin, _ = await account(sessions, resources.settings, Role.ADMIN)
    async with transaction(sessions) as session:
        session.add(
            ProcessingRestriction(
                patient_id=patient_id, reason="test", restricted_by=admin.id, retain_until=admin.created_at
            )
        )
    async with HttpRecorder().serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.LAB_RESULT_READY.value])
        event_id = await record_event(sessions, EventType.LAB_RESULT_READY, patient_id=patient_id)
        unrestricted = (await clinical.create_patient(sessions)).id
        control_id = await record_event(sessions, EventType.LAB_RESULT_READY, patient_id=unrestricted)
        the_worker = worker(resources, notification_settings())
        try:
            await the_worker.run_once()
        finally:
            await the_worker.close()
            await deactivate(sessions, hook_id)
    assert not [r for r in hook.requests if str(event_id).encode() in r.body]
    assert [r for r in hook.requests if str(control_id).encode() in r.body]
