"""One event through every channel to real servers on loopback: email, SMS, webhook, in-app."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from urllib.parse import parse_qs

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.bus import notifications_user
from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel, DeliveryStatus
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import (
    deactivate,
    notification_settings,
    notifications_of,
    record_event,
    set_preference,
    subscription,
    worker,
)
from tests.notifications.servers import HttpRecorder, smtp_server


async def test_a_lab_result_reaches_the_patient_on_every_channel_without_the_result(
    client, sessions, settings, resources
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    await set_preference(sessions, patient.id, sms_enabled=True, phone="+33612345678", language="fr")
    async with (
        smtp_server() as (smtp_port, mailbox),
        HttpRecorder().serving() as sms,
        HttpRecorder().serving() as hook,
        resources.bus.subscribe(channels=[notifications_user(patient.id)]) as live,
    ):
        hook_id = await subscription(sessions, hook.url, [EventType.LAB_RESULT_READY.value], key="s3cret")
        config = notification_settings(
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            sms_url=sms.url,
            sms_username="acct",
            sms_password="tok",
        )
        event_id = await record_event(sessions, EventType.LAB_RESULT_READY, patient_id=patient.patient_id)
        the_worker = worker(resources, config)
        try:
            await the_worker.run_once()
        finally:
            await the_worker.close()
            await deactivate(sessions, hook_id)
        pushed = await asyncio.wait_for(anext(live), timeout=10)

    rows = await notifications_of(sessions, event_id=event_id)
    assert {(r.channel, r.status) for r in rows} == {
        (Channel.IN_APP, DeliveryStatus.SENT),
        (Channel.EMAIL, DeliveryStatus.SENT),
        (Channel.SMS, DeliveryStatus.SENT),
        (Channel.WEBHOOK, DeliveryStatus.SENT),
    }
    # Email in the patient's language, with a link to sign in and nothing of the result.
    (_, mail) = next(m for m in mailbox.messages if m[0] == [patient.email])
    assert mail["Subject"] == "Nouveau résultat"
    assert "https://ownat.example/portal/" in mail.get_content()
    # SMS: the gateway's form fields and basic authentication.
    texts = [parse_qs(r.body.decode()) for r in sms.requests]
    mine = next(t for t in texts if t["To"] == ["+33612345678"])
    assert mine["Body"][0].startswith("Un nouveau résultat")
    assert all(r.headers["authorization"].startswith("Basic ") for r in sms.requests)
    # Webhook: the signature verifies with the subscription's secret over timestamp and body.
    delivered = next(r for r in hook.requests if json.loads(r.body)["id"] == str(event_id))
    timestamp = delivered.headers["x-ownat-timestamp"]
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + delivered.body, hashlib.sha256).hexdigest()
    assert delivered.headers["x-ownat-signature"] == f"sha256={expected}"
    assert delivered.headers["x-ownat-event"] == "lab.result_ready"
    # In-app: a live push, and the inbox.
    assert pushed.data["type"] == "notification" and pushed.data["title"] == "Nouveau résultat"
    # Who was told what about the patient is on the audit record.
    async with sessions() as session:
        (entry,) = await session.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(event_id)))
    assert (entry.action, entry.patient_id) == ("notify", patient.patient_id)
    assert f"sms:{patient.id}" in entry.detail["deliveries"]
    inbox = (await client.get("/api/v1/notifications", headers=headers)).json()
    assert [item["title"] for item in inbox["items"]] == ["Nouveau résultat"]
    assert inbox["unread_count"] == 1


async def test_a_language_without_templates_falls_back_to_english(sessions, settings, resources) -> None:
    patient, _ = await account(sessions, settings, Role.PATIENT)
    await set_preference(sessions, patient.id, language="de")
    event_id = await record_event(sessions, EventType.PRESCRIPTION_ISSUED, patient_id=patient.patient_id)
    the_worker = worker(resources, notification_settings())
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()
    (row,) = await notifications_of(sessions, event_id=event_id)
    assert (row.channel, row.language, row.title) == (Channel.IN_APP, "en", "New prescription")
