"""A subscription reads with its owner's access: when an administrator deactivates the owner or
changes their role, it stops at once, as their own requests do (an account change takes effect at once).

Events go through the real dispatcher of the app under test (readings published on the Redis bus).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.principal import Role
from realtime.subscriptions.models import FhirSubscriptionEvent
from tests.builders import signed_in
from tests.devices.ingest_helpers import wait_until
from tests.fhir import builders
from tests.fhir.subscription_helpers import subscribe, subscription_body
from tests.smart.smart_support import admin_headers


def _reading(patient_id: uuid.UUID, device_id: str, value: float) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "patient_id": str(patient_id),
        "bed_id": None,
        "ward_id": None,
        "readings": [
            {"metric": "8867-4", "value": value, "unit": "/min", "time": datetime.now(UTC).isoformat()}
        ],
    }


async def _recorded(sessions: Any, subscription_id: str) -> int:
    async with sessions() as session:
        found = await session.scalars(
            select(FhirSubscriptionEvent.id).where(
                FhirSubscriptionEvent.subscription_id == uuid.UUID(subscription_id)
            )
        )
        return len(list(found))


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "billing"}], ids=["deactivated", "role"])
async def test_an_owners_account_change_ends_their_subscriptions_at_once(
    client, sessions, app, resources, change: dict[str, Any]
) -> None:
    patient = await builders.patient_record(sessions)
    owner, owner_headers = await signed_in(client, sessions, Role.NURSE)
    _, colleague_headers = await signed_in(client, sessions, Role.NURSE)
    body = subscription_body("vital-signs", f"Observation?patient=Patient/{patient}")
    theirs = await subscribe(client, owner_headers, body)
    control = await subscribe(client, colleague_headers, body)
    dispatcher = app.state.fhir_subscriptions

    async def listening() -> bool:
        known = {uuid.UUID(theirs["id"]), uuid.UUID(control["id"])} <= dispatcher.active.keys()
        return known and dispatcher.listens_to(f"vitals.patient.{patient}")

    await wait_until(listening, what="the dispatcher knowing both subscriptions")
    device = f"t-own-{uuid.uuid4().hex[:8]}"
    await resources.bus.publish(f"vitals.patient.{patient}", _reading(patient, device, 90.0))

    async def first_heard() -> bool:
        return await _recorded(sessions, theirs["id"]) == 1 and await _recorded(sessions, control["id"]) == 1

    await wait_until(first_heard, what="both subscriptions recording the first reading")
    admin = await admin_headers(client, sessions)
    changed = await client.patch(f"/api/v1/users/{owner.id}", json=change, headers=admin)
    assert changed.status_code == 200, changed.text
    await resources.bus.publish(f"vitals.patient.{patient}", _reading(patient, device, 140.0))

    async def second_heard() -> bool:
        return await _recorded(sessions, control["id"]) == 2

    await wait_until(second_heard, what="the colleague's subscription recording the second reading")
    assert await _recorded(sessions, theirs["id"]) == 1
    seen = await client.get(f"/fhir/R4/Subscription/{theirs['id']}", headers=admin)
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "off"
    assert "deactivated or changed role" in seen.json()["error"]
