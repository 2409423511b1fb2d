"""GET /api/v1/system/status: what the database knows of ingest, devices and dead letters; admins only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.db import utc_now
from core.principal import Role
from core.sessions import transaction
from devices.ingest.models import DeviceLastStatus, IngestDeadLetter
from devices.vitals.models import VitalReading
from tests.builders import signed_in

URL = "/api/v1/system/status"


async def _status(client: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    response = await client.get(URL, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


async def test_status_counts_recent_readings_devices_and_dead_letters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin, headers = await signed_in(client, sessions, Role.ADMIN)
    before = await _status(client, headers)
    now = utc_now()
    tag = uuid.uuid4().hex[:8]
    async with transaction(sessions) as session:
        # Device a: 3 readings in the last minute; device b: 2 readings 30 minutes ago (hour only).
        for seconds in (5, 15, 25):
            session.add(_reading(f"sys-a-{tag}", now - timedelta(seconds=seconds)))
        for minutes in (30, 31):
            session.add(_reading(f"sys-b-{tag}", now - timedelta(minutes=minutes)))
        # Device c only reported a status just now; device d's status is an hour old.
        session.add(DeviceLastStatus(device_id=f"sys-c-{tag}", online=True, reported_at=now, received_at=now))
        old = now - timedelta(hours=1)
        session.add(DeviceLastStatus(device_id=f"sys-d-{tag}", online=True, reported_at=old, received_at=old))
        session.add(_dead_letter(tag, "invalid", f"bad JSON {tag}"))
        session.add(_dead_letter(tag, "unknown-device", f"no device {tag}"))
        # An event in the outbox that no worker has fanned out yet.
        outbox.record(session, event_type=outbox.EventType.DOCUMENT_ADDED, document_id=tag)
    after = await _status(client, headers)

    assert after["ingest"]["last_minute"] - before["ingest"]["last_minute"] == 3
    assert after["ingest"]["last_hour"] - before["ingest"]["last_hour"] == 5
    assert after["connected_devices"] - before["connected_devices"] == 2  # a and c
    dead = after["dead_letters"]
    assert dead["unresolved"] - before["dead_letters"]["unresolved"] == 2
    assert dead["total"] - before["dead_letters"]["total"] == 2
    reasons = {item["reason"] for item in dead["newest"]}
    assert {f"bad JSON {tag}", f"no device {tag}"} <= reasons
    codes = {row["reason_code"]: row["count"] for row in dead["by_reason"]}
    assert codes["invalid"] >= 1 and codes["unknown-device"] >= 1
    backlog, earlier = after["notification_backlog"], before["notification_backlog"]
    assert (backlog["pending"] - earlier["pending"], backlog["dead"] - earlier["dead"]) == (1, 0)

    audit = await client.get(
        "/api/v1/audit/events",
        params={"actor_id": str(admin.id), "resource_type": "system-status"},
        headers=headers,
    )
    assert audit.json()["items"], "reading the system status is audited"


def _reading(device_id: str, at) -> VitalReading:
    return VitalReading(
        time=at, device_id=device_id, patient_id=None, metric="8867-4", value=72.0, unit="/min"
    )


def _dead_letter(tag: str, code: str, reason: str) -> IngestDeadLetter:
    return IngestDeadLetter(
        topic=f"ownat/devices/sys-{tag}/vitals",
        device_id=f"sys-{tag}",
        payload=b"{not json",
        payload_size=9,
        reason_code=code,
        reason=reason,
    )


async def test_status_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_status_is_for_administrators_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    _, headers = await signed_in(client, sessions, role)
    response = await client.get(URL, headers=headers)
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
