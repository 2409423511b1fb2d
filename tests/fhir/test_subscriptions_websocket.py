"""A websocket subscriber receives the vital signs of a reading published over MQTT: the real broker,
the ingest worker, the Redis bus and the app served by uvicorn, each as in production."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from core.principal import Role
from core.settings import Settings
from tests.builders import bearer, create_user
from tests.devices.ingest_helpers import (
    Publisher,
    bind,
    new_patient,
    register_devices,
    running_worker,
    unique_device_id,
    vitals_payload,
    wait_until,
    worker_config,
)
from tests.fhir.subscription_helpers import GUARD_S, next_bundle, status_of, subscribe, subscription_body
from tests.realtime.hub_helpers import serve_app, token_for

HEART_RATE = "8867-4"


async def test_a_reading_over_mqtt_reaches_a_websocket_subscriber_as_a_vital_sign_notification(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], postgres_url: str, mqtt_url: str
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient_id = await new_patient(sessions)
    device_id = unique_device_id("subs")
    rows = await register_devices(sessions, [device_id])
    await bind(sessions, rows[device_id], patient_id, datetime.now(UTC) - timedelta(hours=1))

    async with serve_app(settings) as running:
        port = running.url.split(":")[2].split("/")[0]
        base = f"http://127.0.0.1:{port}"
        headers = bearer(token_for(nurse, settings))
        async with httpx.AsyncClient(base_url=base, timeout=GUARD_S) as client:
            created = await subscribe(
                client,
                headers,
                subscription_body(
                    "vital-signs", f"Observation?patient=Patient/{patient_id}", content="full-resource"
                ),
            )
            assert created["status"] == "active"
            answer = await client.post(
                f"/fhir/R4/Subscription/{created['id']}/$get-ws-binding-token", headers=headers
            )
            assert answer.status_code == 200, answer.text
            parameters = {p["name"]: p for p in answer.json()["parameter"]}
        dispatcher = running.app.state.fhir_subscriptions

        async def listening() -> bool:
            return dispatcher.listens_to(f"vitals.patient.{patient_id}")

        await wait_until(listening, what="the dispatcher listening to the patient's vitals")
        websocket_url = parameters["websocket-url"]["valueUrl"]
        assert websocket_url == f"ws://127.0.0.1:{port}/fhir/R4/subscription-ws"
        async with connect(websocket_url, open_timeout=GUARD_S) as socket:
            await socket.send(f"bind-with-token {parameters['token']['valueString']}")
            handshake = status_of(await next_bundle(socket, "handshake"))
            assert handshake["subscription"]["reference"] == f"Subscription/{created['id']}"

            async with running_worker(worker_config(postgres_url, mqtt_url), bus=running.bus):
                async with Publisher(mqtt_url) as publisher:
                    at = datetime.now(UTC).replace(microsecond=0)
                    payload = vitals_payload(1, at, metrics=[("hr", "/min", 123.0)])
                    await publisher.publish_all([(f"ownat/v1/devices/{device_id}/vitals", payload)])
                notification = await next_bundle(socket, "event-notification")

    status = status_of(notification)
    [event] = status["notificationEvent"]
    assert event["eventNumber"] == "1" and status["eventsSinceSubscriptionStart"] == "1"
    observation = notification["entry"][1]["resource"]
    assert event["focus"]["reference"] == f"Observation/{observation['id']}"
    assert observation["subject"]["reference"] == f"Patient/{patient_id}"
    assert observation["code"]["coding"][0]["code"] == HEART_RATE
    assert observation["valueQuantity"]["value"] == 123.0


async def test_a_bound_websocket_hears_heartbeats_and_a_forged_token_is_closed(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient_id = await new_patient(sessions)
    async with serve_app(settings) as running:
        port = running.url.split(":")[2].split("/")[0]
        headers = bearer(token_for(nurse, settings))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=GUARD_S) as client:
            body = subscription_body(
                "vital-signs", f"Observation?patient=Patient/{patient_id}", heartbeat_s=1
            )
            created = await subscribe(client, headers, body)
            answer = await client.get(
                f"/fhir/R4/Subscription/{created['id']}/$get-ws-binding-token", headers=headers
            )
            token = {p["name"]: p for p in answer.json()["parameter"]}["token"]["valueString"]
        url = running.url.replace("/ws", "/fhir/R4/subscription-ws")
        async with connect(url, open_timeout=GUARD_S) as socket:
            await socket.send(f"bind-with-token {token}")
            await next_bundle(socket, "handshake")
            heartbeat = status_of(await next_bundle(socket, "heartbeat"))
            assert heartbeat["subscription"]["reference"] == f"Subscription/{created['id']}"
            assert heartbeat["eventsSinceSubscriptionStart"] == "0"
        async with connect(url, open_timeout=GUARD_S) as socket:
            await socket.send("bind-with-token not-a-token")
            async with asyncio.timeout(GUARD_S):
                await socket.wait_closed()
            assert socket.close_code == 1008
