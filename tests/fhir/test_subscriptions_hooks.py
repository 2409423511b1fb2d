"""Rest-hook subscriptions against a real HTTP server on loopback: signed notifications, retried
when the endpoint fails; and the guard that keeps endpoints off private addresses."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from realtime.subscriptions.jobs import SubscriptionJobs
from realtime.subscriptions.models import FhirSubscriptionEvent
from realtime.subscriptions.resource import SIGNING_SECRET
from realtime.subscriptions.topics import TOPICS
from tests.builders import bearer, create_user
from tests.clinical.builders import create_patient, signed_in_patient
from tests.conftest import AppFactory
from tests.devices.ingest_helpers import wait_until
from tests.fhir.conftest import fhir_json, outcome
from tests.fhir.subscription_helpers import FHIR_JSON, status_of, subscribe, subscription_body
from tests.notifications.servers import HttpRecorder, HttpRequest
from tests.realtime.hub_helpers import token_for


def _signed(request: HttpRequest, secret: str) -> bool:
    timestamp = request.headers["x-ownat-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["x-ownat-signature"], f"sha256={expected}")


def _reading(patient_id: uuid.UUID, value: float) -> dict[str, object]:
    at = datetime.now(UTC).isoformat()
    return {
        "device_id": "t-hook-monitor",
        "patient_id": str(patient_id),
        "bed_id": None,
        "ward_id": None,
        "readings": [{"metric": "8867-4", "value": value, "unit": "/min", "time": at}],
    }


async def test_a_rest_hook_receives_signed_notifications_and_a_failing_one_is_retried(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient = await create_patient(sessions)
    headers = bearer(token_for(nurse, settings))
    recorder = HttpRecorder(status=500)
    async with (
        app_with(fhir_hooks_allow_private=True, fhir_hook_retry_base_s=0.1) as app,
        recorder.serving(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ownat.test") as client,
    ):
        resources = app.state.resources
        created = await subscribe(
            client,
            headers,
            subscription_body(
                "vital-signs",
                f"Observation?patient=Patient/{patient.id}",
                channel="rest-hook",
                endpoint=recorder.url,
            ),
        )
        assert created["status"] == "requested"
        secret = next(e["valueString"] for e in created["extension"] if e["url"] == SIGNING_SECRET)
        dispatcher = app.state.fhir_subscriptions

        async def listening() -> bool:
            return dispatcher.listens_to(f"vitals.patient.{patient.id}")

        await wait_until(listening, what="the dispatcher listening to the patient's vitals")
        await resources.bus.publish(f"vitals.patient.{patient.id}", _reading(patient.id, 131.0))

        async def recorded() -> bool:
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count()).where(
                        FhirSubscriptionEvent.subscription_id == uuid.UUID(created["id"])
                    )
                )
            return count == 1

        await wait_until(recorded, what="the reading recorded as the subscription's event")

        jobs = SubscriptionJobs()
        try:
            await jobs(resources, now=utc_now())
            # The endpoint failed the handshake; the reading's notification waits behind it.
            assert [status_of(json.loads(r.body))["type"] for r in recorder.requests] == ["handshake"]
            recorder.status = 200

            async def delivered() -> bool:
                await jobs(resources, now=utc_now())
                return len(recorder.requests) >= 3

            await wait_until(delivered, what="the retried handshake and the notification")
        finally:
            await jobs.close()
        answer = await client.get(f"/fhir/R4/Subscription/{created['id']}/$status", headers=headers)

    first, retried, notification = recorder.requests[:3]
    assert all(_signed(request, secret) for request in recorder.requests)
    # A retry is the same delivery: receivers deduplicate on its id.
    assert first.headers["x-ownat-delivery"] == retried.headers["x-ownat-delivery"]
    assert status_of(json.loads(retried.body))["type"] == "handshake"
    assert notification.headers["content-type"] == "application/fhir+json"
    status = status_of(json.loads(notification.body))
    assert status["type"] == "event-notification"
    [event] = status["notificationEvent"]
    assert event["eventNumber"] == "1" and event["focus"]["reference"].startswith("Observation/")
    assert len(json.loads(notification.body)["entry"]) == 1  # id-only: the focus is referenced, not sent
    assert answer.status_code == 200
    [entry] = answer.json()["entry"]
    assert entry["resource"]["status"] == "active"
    assert entry["resource"]["eventsSinceSubscriptionStart"] == "1"


async def test_rest_hooks_must_post_to_public_addresses(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient = await create_patient(sessions)
    headers = {**bearer(token_for(nurse, settings)), **FHIR_JSON}
    criteria = f"Observation?patient=Patient/{patient.id}"
    for endpoint in ("http://127.0.0.1:9/hook", "https://169.254.169.254/latest", "https://10.0.0.8/hook"):
        body = subscription_body("vital-signs", criteria, channel="rest-hook", endpoint=endpoint)
        issue = outcome(await client.post("/fhir/R4/Subscription", json=body, headers=headers), 400)
        assert "channel.endpoint" in issue["diagnostics"]


async def test_a_patient_subscribes_to_their_own_record_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    other = await create_patient(sessions)
    body = subscription_body("vital-signs", f"Observation?patient=Patient/{other.id}")
    outcome(await client.post("/fhir/R4/Subscription", json=body, headers={**headers, **FHIR_JSON}), 403)
    ward_wide = subscription_body("appointments", None)
    outcome(await client.post("/fhir/R4/Subscription", json=ward_wide, headers={**headers, **FHIR_JSON}), 403)
    own = await subscribe(
        client, headers, subscription_body("vital-signs", f"Observation?patient=Patient/{patient.id}")
    )
    assert own["status"] == "active"


async def test_a_subscription_without_a_required_filter_names_the_field(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    headers = {**bearer(token_for(nurse, settings)), **FHIR_JSON}
    body = subscription_body("vital-signs", None)
    issue = outcome(await client.post("/fhir/R4/Subscription", json=body, headers=headers), 400)
    assert "criteria filter" in issue["diagnostics"]
    unknown = {**body, "criteria": "http://example.org/SubscriptionTopic/nope"}
    issue = outcome(await client.post("/fhir/R4/Subscription", json=unknown, headers=headers), 400)
    assert "Subscription.criteria" in issue["diagnostics"]


async def test_the_capability_statement_declares_topics_subscriptions_and_bulk_export(
    client: httpx.AsyncClient,
) -> None:
    body = fhir_json(await client.get("/fhir/R4/metadata"))
    rest = body["rest"][0]
    by_type = {entry["type"]: entry for entry in rest["resource"]}
    subscription = by_type["Subscription"]
    topics = {item["valueCanonical"] for item in subscription["extension"]}
    assert topics == {topic.url for topic in TOPICS}
    assert {op["name"] for op in subscription["operation"]} == {"status", "events", "get-ws-binding-token"}
    assert {item["code"] for item in subscription["interaction"]} == {
        "create",
        "read",
        "delete",
        "search-type",
    }
    assert [op["name"] for op in rest["operation"]] == ["export"]
    assert "export" in {op["name"] for op in by_type["Patient"]["operation"]}
    assert [op["name"] for op in by_type["Group"]["operation"]] == ["export"]
    assert "interaction" not in by_type["Group"]


async def test_topics_are_served_as_subscription_topics(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    headers = bearer(token_for(nurse, settings))
    bundle = fhir_json(await client.get("/fhir/R4/SubscriptionTopic", headers=headers))
    assert {entry["resource"]["url"] for entry in bundle["entry"]} == {topic.url for topic in TOPICS}
    one = fhir_json(await client.get("/fhir/R4/SubscriptionTopic/vital-signs", headers=headers))
    assert [f["filterParameter"] for f in one["canFilterBy"]] == ["patient", "ward"]
