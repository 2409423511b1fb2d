"""Subscriptions and bulk export on the embedded default (`ownat dev`): SQLite and the in-process bus.

A rest-hook subscriber on loopback receives a live vital sign from the bus and an appointment
booked through the scheduling domain's outbox announcement (rendered in full, as its owner may read
it); a patient-level export streams from SQLite and every line validates.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from clinical.fhir.bulk.runner import ExportRunner
from clinical.scheduling.events import AppointmentEvent, appointment_changed
from core import outbox
from core.db import utc_now
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from ownat import migrate
from realtime.subscriptions.jobs import SubscriptionJobs
from tests.builders import http_client
from tests.devices.ingest_helpers import wait_until
from tests.fhir import builders
from tests.fhir.conftest import validate_resource
from tests.fhir.subscription_helpers import status_of, subscribe, subscription_body
from tests.notifications.servers import HttpRecorder

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
async def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    data_dir: Path = tmp_path_factory.mktemp("fhir-subs-sqlite")
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=data_dir,
        secret_key=secrets.token_urlsafe(48),
        log_json=False,
        fhir_hooks_allow_private=True,
        fhir_export_batch=3,  # several batches per type
    )
    await migrate.upgrade_async(settings.effective_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_rest_hooks_hear_live_vitals_and_booked_appointments_on_sqlite(sqlite_app: FastAPI) -> None:
    resources = sqlite_app.state.resources
    sessions = resources.sessions
    jobs = SubscriptionJobs()
    recorder = HttpRecorder()
    async with http_client(sqlite_app) as client, recorder.serving():
        staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
        patient_id = await builders.patient_record(sessions)
        chart = await builders.chart(sessions, patient_id)
        await jobs(resources, now=utc_now())  # the outbox feed starts from now
        criteria = f"Observation?patient=Patient/{patient_id}"
        vitals = await subscribe(
            client,
            staff,
            subscription_body("vital-signs", criteria, channel="rest-hook", endpoint=recorder.url),
        )
        visits = await subscribe(
            client,
            staff,
            subscription_body(
                "appointments",
                f"Appointment?patient=Patient/{patient_id}",
                channel="rest-hook",
                endpoint=recorder.url,
                content="full-resource",
            ),
        )
        dispatcher = sqlite_app.state.fhir_subscriptions

        async def listening() -> bool:
            return dispatcher.listens_to(f"vitals.patient.{patient_id}")

        await wait_until(listening, what="the dispatcher listening to the patient's vitals")
        reading = {"metric": "59408-5", "value": 97.0, "unit": "%", "time": datetime.now(UTC).isoformat()}
        await resources.bus.publish(
            f"vitals.patient.{patient_id}",
            {
                "device_id": "mon-sqlite",
                "patient_id": str(patient_id),
                "ward_id": None,
                "readings": [reading],
            },
        )
        async with transaction(sessions) as session:
            await appointment_changed(
                session, event=AppointmentEvent.BOOKED, appointment=chart.appointment, actor=SYSTEM
            )

        async def notified() -> bool:
            await jobs(resources, now=utc_now())
            kinds = [status_of(json.loads(r.body))["type"] for r in recorder.requests]
            return kinds.count("event-notification") == 2

        try:
            await wait_until(notified, what="both notifications")
        finally:
            await jobs.close()

    by_subscription: dict[str, list[dict]] = {}
    for request in recorder.requests:
        bundle = json.loads(request.body)
        reference = status_of(bundle)["subscription"]["reference"]
        by_subscription.setdefault(reference, []).append(bundle)
    vital_bundle = by_subscription[f"Subscription/{vitals['id']}"][-1]
    assert status_of(vital_bundle)["notificationEvent"][0]["focus"]["reference"].startswith("Observation/")
    visit_bundle = by_subscription[f"Subscription/{visits['id']}"][-1]
    [event] = status_of(visit_bundle)["notificationEvent"]
    assert event["focus"]["reference"] == f"Appointment/{chart.appointment.id}"
    appointment = visit_bundle["entry"][1]["resource"]
    assert appointment["resourceType"] == "Appointment" and appointment["id"] == str(chart.appointment.id)


async def test_a_patient_level_export_streams_from_sqlite(sqlite_app: FastAPI) -> None:
    resources = sqlite_app.state.resources
    sessions = resources.sessions
    async with http_client(sqlite_app) as client:
        admin = await builders.staff_headers(client, sessions, Role.ADMIN)
        patient_id = await builders.patient_record(sessions)
        await builders.chart(sessions, patient_id)
        await builders.device_readings(sessions, patient_id, count=4)
        kick_off = await client.get(
            "/fhir/R4/Patient/$export",
            headers={**admin, "Prefer": "respond-async"},
            params={"_type": "Observation"},
        )
        assert kick_off.status_code == 202, kick_off.text
        runner = ExportRunner()
        await runner(resources, now=utc_now())
        assert runner.running is not None
        await runner.running
        done = await client.get(kick_off.headers["content-location"], headers=admin)
        assert done.status_code == 200, done.text
        [output] = done.json()["output"]
        lines = (await client.get(output["url"], headers=admin)).text.splitlines()
    assert output["type"] == "Observation" and len(lines) == output["count"] >= 7
    for line in lines:
        validate_resource(json.loads(line))


async def test_a_patient_hears_of_their_released_lab_report_only(sqlite_app: FastAPI) -> None:
    resources = sqlite_app.state.resources
    sessions = resources.sessions
    jobs = SubscriptionJobs()
    recorder = HttpRecorder()
    async with http_client(sqlite_app) as client, recorder.serving():
        user, headers = await builders.patient_user(client, sessions)
        assert user.patient_id is not None
        chart = await builders.chart(sessions, user.patient_id)
        await jobs(resources, now=utc_now())  # the outbox feed starts from now
        created = await subscribe(
            client,
            headers,
            subscription_body(
                "lab-results",
                f"DiagnosticReport?patient=Patient/{user.patient_id}",
                channel="rest-hook",
                endpoint=recorder.url,
                content="full-resource",
            ),
        )
        async with transaction(sessions) as session:
            # What the lab domain records when a report is filed; the preliminary one is not released.
            for order in (chart.preliminary_order, chart.order):
                outbox.record(
                    session,
                    event_type=outbox.EventType.LAB_RESULT_READY,
                    order_id=order.id,
                    patient_id=order.patient_id,
                )

        async def notified() -> bool:
            await jobs(resources, now=utc_now())
            return any(
                status_of(json.loads(r.body))["type"] == "event-notification" for r in recorder.requests
            )

        try:
            await wait_until(notified, what="the lab notification")
        finally:
            await jobs.close()
        events = (await client.get(f"/fhir/R4/Subscription/{created['id']}/$events", headers=headers)).json()
    [event] = status_of(events)["notificationEvent"]
    assert event["focus"]["reference"] == f"DiagnosticReport/{chart.order.id}"
    report = events["entry"][1]["resource"]
    assert report["resourceType"] == "DiagnosticReport" and report["status"] == "final"
