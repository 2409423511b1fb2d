"""An alarm subscription over a rest-hook, end to end on the real bus and a loopback receiver: the alarm
as a DetectedIssue in full, `$events`, heartbeats, a dead endpoint putting the subscription in error,
and ownership (another user sees nothing; the owner deletes it)."""

from __future__ import annotations

import json
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from realtime.alarms.models import AlarmKind, AlarmPriority, AlarmStatus
from realtime.alarms.publishing import publish_changes
from realtime.alarms.schemas import AlarmChange, AlarmRead
from realtime.subscriptions.jobs import SubscriptionJobs
from realtime.subscriptions.models import FhirSubscriptionEvent
from tests.builders import bearer, create_user
from tests.clinical.builders import create_patient, create_ward_with_beds
from tests.conftest import AppFactory
from tests.devices.ingest_helpers import wait_until
from tests.fhir.conftest import fhir_json, outcome, validate_resource
from tests.fhir.subscription_helpers import status_of, subscribe, subscription_body
from tests.notifications.servers import HttpRecorder
from tests.realtime.hub_helpers import token_for


def _alarm(patient_id: uuid.UUID, ward_id: uuid.UUID, change: str) -> AlarmChange:
    now = utc_now()
    acknowledged = change == "acknowledged"
    return AlarmChange(
        change=change,
        alarm=AlarmRead(
            id=uuid.uuid4(),
            patient_id=patient_id,
            bed_id=None,
            ward_id=ward_id,
            kind=AlarmKind.THRESHOLD,
            condition_key="hr-high",
            code="HR_HIGH",
            priority=AlarmPriority.HIGH,
            status=AlarmStatus.ACKNOWLEDGED if acknowledged else AlarmStatus.RAISED,
            raised_at=now,
            acknowledged_by=None,
            acknowledged_at=now if acknowledged else None,
            resolved_by=None,
            resolved_at=None,
            escalated_at=None,
            device_id="t-alarm-monitor",
            value=142.0,
            score=None,
            detail={},
        ),
    )


async def test_an_alarm_subscription_receives_detected_issues_heartbeats_and_errors(
    app_with: AppFactory, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    other, _ = await create_user(sessions, role=Role.NURSE)
    ward, _beds = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    headers, strangers = bearer(token_for(nurse, settings)), bearer(token_for(other, settings))
    recorder = HttpRecorder()
    jobs = SubscriptionJobs()
    async with (
        app_with(fhir_hooks_allow_private=True, fhir_hook_retry_base_s=0.05, fhir_hook_max_attempts=2) as app,
        recorder.serving(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ownat.test") as client,
    ):
        resources = app.state.resources
        created = await subscribe(
            client,
            headers,
            subscription_body(
                "alarms",
                f"DetectedIssue?ward={ward.id}",
                channel="rest-hook",
                endpoint=recorder.url,
                content="full-resource",
                heartbeat_s=1,
            ),
        )
        subscription_id = uuid.UUID(created["id"])
        base = f"/fhir/R4/Subscription/{created['id']}"
        dispatcher = app.state.fhir_subscriptions

        async def known() -> bool:
            return subscription_id in dispatcher.active

        await wait_until(known, what="the dispatcher knowing the subscription")
        await publish_changes(resources.bus, [_alarm(patient.id, ward.id, "raised")])

        async def recorded() -> bool:
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count()).where(FhirSubscriptionEvent.subscription_id == subscription_id)
                )
            return count == 1

        await wait_until(recorded, what="the alarm recorded")

        def kinds() -> list[str]:
            return [status_of(json.loads(r.body))["type"] for r in recorder.requests]

        async def heartbeat_after_event() -> bool:
            await jobs(resources, now=utc_now())
            seen = kinds()
            return "event-notification" in seen and "heartbeat" in seen[seen.index("event-notification") :]

        await wait_until(heartbeat_after_event, what="the notification, then a heartbeat")
        notification = next(
            json.loads(r.body)
            for r in recorder.requests
            if status_of(json.loads(r.body))["type"] == "event-notification"
        )
        issue = notification["entry"][1]["resource"]
        validate_resource(issue)
        assert issue["resourceType"] == "DetectedIssue" and issue["status"] == "preliminary"
        assert issue["patient"]["reference"] == f"Patient/{patient.id}" and issue["severity"] == "high"

        events = fhir_json(
            await client.get(f"{base}/$events", params={"eventsSinceNumber": "1"}, headers=headers)
        )
        [event] = status_of(events)["notificationEvent"]
        assert status_of(events)["type"] == "query-event" and event["eventNumber"] == "1"
        assert events["entry"][1]["resource"]["id"] == issue["id"]

        outcome(await client.get(base, headers=strangers), 404)
        outcome(await client.get(f"{base}/$events", headers=strangers), 404)

        # The receiver breaks: the acknowledgement's notification runs out of attempts.
        recorder.status = 500
        await publish_changes(resources.bus, [_alarm(patient.id, ward.id, "acknowledged")])

        async def errored() -> bool:
            await jobs(resources, now=utc_now())
            answer = await client.get(f"{base}/$status", headers=headers)
            return answer.json()["entry"][0]["resource"]["status"] == "error"

        try:
            await wait_until(errored, what="the subscription in error")
        finally:
            await jobs.close()
        status = fhir_json(await client.get(f"{base}/$status", headers=headers))["entry"][0]["resource"]
        assert status["eventsSinceSubscriptionStart"] == "2" and "500" in status["error"][0]["text"]

        assert (await client.delete(base, headers=strangers)).status_code == 404
        assert (await client.delete(base, headers=headers)).status_code == 204
        outcome(await client.get(base, headers=headers), 404)
