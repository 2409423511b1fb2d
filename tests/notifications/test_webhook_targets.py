"""Webhooks reach public addresses only, unless the host is allowed: at registration and at delivery."""

from __future__ import annotations

import ipaddress

import pytest

from core.outbox import EventType
from core.principal import Role
from core.webhook_targets import refusal_reason
from notifications.models import Channel, DeliveryStatus
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import (
    deactivate,
    notification_settings,
    notifications_of,
    record_event,
    subscription,
    worker,
)
from tests.notifications.servers import HttpRecorder

API = "/api/v1/notifications/webhooks"

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "0.0.0.0",  # noqa: S104 - an address judged, not bound
    "::",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "169.254.169.254",  # cloud metadata
    "fe80::1",
    "fc00::1",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
    ],
)
async def test_registration_refuses_internal_targets(client, sessions, settings, url: str) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    refused = await client.post(API, json={"url": url, "event_types": ["lab.result_ready"]}, headers=headers)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "webhook-target-refused" and body["pointer"] == "#/body/url"
    assert "OWNAT_WEBHOOK_ALLOWED_HOSTS" in body["detail"]
    listed = (await client.get(API, headers=headers)).json()
    assert all(hook["url"] != url for hook in listed)


async def _deliver(
    sessions, settings, resources, url: str, allowed: list[str]
) -> tuple[DeliveryStatus, str | None]:
    """Records an event for a new subscription at `url`, runs a worker with `allowed` hosts once."""
    patient, _ = await account(sessions, settings, Role.PATIENT)
    # Events that earlier tests left in the outbox are fanned out before the subscription exists:
    # otherwise they would go to it too, and five refused deliveries open its breaker before this one.
    earlier = worker(resources, notification_settings())
    try:
        await earlier.fan_out()
    finally:
        await earlier.close()
    hook_id = await subscription(sessions, url, [EventType.DOCUMENT_ADDED.value])
    event_id = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
    the_worker = worker(resources, notification_settings(webhook_allowed_hosts=allowed))
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()
        await deactivate(sessions, hook_id)
    (row,) = [r for r in await notifications_of(sessions, event_id=event_id) if r.channel is Channel.WEBHOOK]
    return row.status, row.last_error


async def test_delivery_to_a_loopback_receiver_needs_the_allow_list(sessions, settings, resources) -> None:
    async with HttpRecorder().serving() as hook:
        status, error = await _deliver(sessions, settings, resources, hook.url, allowed=[])
        assert status is DeliveryStatus.PENDING and error is not None
        assert "webhook target refused" in error and "loopback" in error
        assert hook.connections == 0

        status, error = await _deliver(sessions, settings, resources, hook.url, allowed=["127.0.0.1"])
        assert (status, error) == (DeliveryStatus.SENT, None)
        assert len(hook.requests) == 1


async def test_a_name_is_resolved_and_judged_at_delivery_and_the_connection_pinned(
    sessions, settings, resources
) -> None:
    async with HttpRecorder().serving() as hook:
        # Registered (or stored) by name: "localhost" resolves to loopback when the delivery is made.
        by_name = hook.url.replace("127.0.0.1", "localhost")
        status, error = await _deliver(sessions, settings, resources, by_name, allowed=[])
        assert status is DeliveryStatus.PENDING and error is not None and "loopback" in error
        assert hook.connections == 0

        status, error = await _deliver(sessions, settings, resources, by_name, allowed=["localhost"])
        assert (status, error) == (DeliveryStatus.SENT, None)
        # Connected to the judged address, the name kept for the receiver.
        (received,) = hook.requests
        assert received.headers["host"] == f"localhost:{hook.port}"
