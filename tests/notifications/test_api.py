"""The notification API: inbox, read marks and preferences per caller; deliveries and webhooks for admins."""

from __future__ import annotations

import pytest

from core.outbox import EventType
from core.principal import Role
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import notification_settings, record_event, worker

API = "/api/v1/notifications"


async def _deliver(resources) -> None:
    the_worker = worker(resources, notification_settings())
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()


async def test_the_inbox_is_the_callers_own_and_read_marks_are_theirs_only(
    client, sessions, settings, resources
) -> None:
    patient, headers = await account(sessions, settings, Role.PATIENT)
    other, other_headers = await account(sessions, settings, Role.PATIENT)
    for event in (EventType.DOCUMENT_ADDED, EventType.PRESCRIPTION_ISSUED):
        await record_event(sessions, event, patient_id=patient.patient_id)
    await _deliver(resources)

    inbox = (await client.get(API, headers=headers)).json()
    assert [item["title"] for item in inbox["items"]] == ["New prescription", "New document"]
    assert (await client.get(API, headers=other_headers)).json() == {
        "items": [],
        "next_cursor": None,
        "unread_count": 0,
    }
    first = inbox["items"][0]["id"]
    refused = await client.post(f"{API}/{first}/read", headers=other_headers)
    assert refused.status_code == 403
    marked = await client.post(f"{API}/{first}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    page = (await client.get(f"{API}?unread=true&limit=1", headers=headers)).json()
    assert [i["title"] for i in page["items"]] == ["New document"] and page["unread_count"] == 1
    assert (await client.post(f"{API}/read-all", headers=headers)).json() == {"marked": 1}
    assert other.id != patient.id


async def test_preferences_round_trip_and_are_validated(client, sessions, settings) -> None:
    _, headers = await account(sessions, settings, Role.PATIENT)
    assert (await client.get(f"{API}/preferences", headers=headers)).json()["email_enabled"] is True
    wanted = {
        "email_enabled": False,
        "sms_enabled": True,
        "phone": "+33612345678",
        "language": "fr",
        "time_zone": "Europe/Paris",
        "quiet_start": "22:00:00",
        "quiet_end": "07:00:00",
        "muted_events": ["appointment.reminder"],
    }
    saved = await client.put(f"{API}/preferences", json=wanted, headers=headers)
    assert saved.status_code == 200 and saved.json() == wanted
    assert (await client.get(f"{API}/preferences", headers=headers)).json() == wanted
    for bad in (
        {"time_zone": "Mars/Olympus"},
        {"sms_enabled": True},
        {"quiet_start": "22:00:00"},
        # Quiet hours are wall-clock times in the user's zone (an offset was once a 500).
        {"quiet_start": "22:00:00+02:00", "quiet_end": "07:00:00+02:00"},
        {"quiet_start": "22:00:00Z", "quiet_end": "07:00:00"},
        {"muted_events": ["alarm.escalated"]},
        {"language": "xx"},
    ):
        refused = await client.put(f"{API}/preferences", json=bad, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")


async def test_admins_manage_webhooks_and_the_secret_is_shown_once(client, sessions, settings) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    created = await client.post(
        f"{API}/webhooks",
        json={"url": "https://his.example/ownat", "event_types": ["lab.result_ready"]},
        headers=headers,
    )
    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    hook_id = created.json()["id"]
    listed = (await client.get(f"{API}/webhooks", headers=headers)).json()
    assert all("secret" not in hook for hook in listed)
    assert any(hook["id"] == hook_id for hook in listed)
    stopped = await client.post(f"{API}/webhooks/{hook_id}/deactivate", headers=headers)
    assert stopped.json()["active"] is False


async def test_admins_see_the_backlog(client, sessions, settings) -> None:
    _, headers = await account(sessions, settings, Role.ADMIN)
    patient, _ = await account(sessions, settings, Role.PATIENT)
    before = (await client.get(f"{API}/backlog", headers=headers)).json()
    await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
    after = (await client.get(f"{API}/backlog", headers=headers)).json()
    assert after["waiting_events"] == before["waiting_events"] + 1
    assert set(after) == {"waiting_events", "deliveries", "oldest_due_at"}


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN])
async def test_only_admins_reach_deliveries_and_webhooks(client, sessions, settings, role) -> None:
    _, headers = await account(sessions, settings, role)
    for method, path in (
        ("GET", f"{API}/deliveries"),
        ("GET", f"{API}/backlog"),
        ("GET", f"{API}/webhooks"),
        ("POST", f"{API}/webhooks"),
    ):
        body = {"url": "https://his.example/x"} if method == "POST" else None
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (role, path)


async def test_every_endpoint_needs_a_signed_in_caller(client) -> None:
    for method, path in (
        ("GET", API),
        ("POST", f"{API}/read-all"),
        ("GET", f"{API}/preferences"),
        ("GET", f"{API}/deliveries"),
        ("GET", f"{API}/webhooks"),
    ):
        assert (await client.request(method, path)).status_code == 401, path
