"""Helpers of the subscription tests: Subscription bodies, and a client of the websocket channel."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from realtime.subscriptions.resource import FILTER_CRITERIA, HEARTBEAT_PERIOD, PAYLOAD_CONTENT
from realtime.subscriptions.topics import TOPIC_BASE
from tests.fhir.conftest import validate_resource

FHIR_JSON = {"Content-Type": "application/fhir+json"}
GUARD_S = 30.0  # a guard against hanging, never a timing assertion


def subscription_body(
    topic: str,
    criteria: str | None,
    *,
    channel: str = "websocket",
    endpoint: str | None = None,
    content: str = "id-only",
    heartbeat_s: int | None = None,
) -> dict[str, Any]:
    """A backport Subscription on `topic` with one filter."""
    channel_element: dict[str, Any] = {
        "type": channel,
        "payload": "application/fhir+json",
        "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": content}]},
    }
    if endpoint:
        channel_element["endpoint"] = endpoint
    if heartbeat_s:
        channel_element["extension"] = [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": heartbeat_s}]
    body: dict[str, Any] = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "test",
        "criteria": TOPIC_BASE + topic,
        "channel": channel_element,
    }
    if criteria:
        body["_criteria"] = {"extension": [{"url": FILTER_CRITERIA, "valueString": criteria}]}
    return body


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/fhir/R4/Subscription", json=body, headers={**headers, **FHIR_JSON})
    assert response.status_code == 201, response.text
    created = response.json()
    validate_resource(created)
    return created


def status_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """The SubscriptionStatus of a notification Bundle, the Bundle validated first."""
    validate_resource(bundle)
    assert bundle["type"] == "subscription-notification"
    status = bundle["entry"][0]["resource"]
    assert status["resourceType"] == "SubscriptionStatus"
    return status


async def next_bundle(connection: ClientConnection, kind: str) -> dict[str, Any]:
    """The next notification Bundle of `kind` on the websocket, skipping others (heartbeats)."""
    async with asyncio.timeout(GUARD_S):
        while True:
            bundle = json.loads(await connection.recv())
            if status_of(bundle)["type"] == kind:
                return bundle


def new_id() -> str:
    return str(uuid.uuid4())
