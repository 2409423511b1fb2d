"""The audit log over HTTP: admins page and filter it, check the chain and export checkpoints; nobody
else may."""

from __future__ import annotations

import httpx
import pytest

from core.principal import Role
from core.resources import Resources
from tests.builders import signed_in
from tests.core.audit_support import seal_everything


async def test_admin_pages_through_filtered_entries(client: httpx.AsyncClient, sessions) -> None:
    admin, headers = await signed_in(client, sessions, Role.ADMIN)
    nurse, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    for _ in range(3):
        assert (await client.get("/api/v1/auth/me", headers=nurse_headers)).status_code == 200

    first = await client.get(
        "/api/v1/audit/events",
        params={"actor_id": str(nurse.id), "action": "read", "limit": 2},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None
    assert all(item["actor_id"] == str(nurse.id) and item["action"] == "read" for item in page["items"])
    assert all(item["request_id"] and item["client_address"] for item in page["items"])

    second = await client.get(
        "/api/v1/audit/events",
        params={"actor_id": str(nurse.id), "action": "read", "limit": 2, "before": page["next_cursor"]},
        headers=headers,
    )
    older = second.json()["items"]
    assert older and all(item["seq"] < page["next_cursor"] for item in older)

    # Reading the log is itself on the record.
    mine = await client.get("/api/v1/audit/events", params={"actor_id": str(admin.id)}, headers=headers)
    assert any(item["resource_type"] == "audit_event" for item in mine.json()["items"])


async def test_failed_logins_are_on_the_record(client: httpx.AsyncClient, sessions) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    nurse, _ = await signed_in(client, sessions, Role.NURSE)
    await client.post("/api/v1/auth/login", json={"email": nurse.email, "password": "not-the-password-1"})
    response = await client.get(
        "/api/v1/audit/events",
        params={"action": "login", "outcome": "failure", "limit": 200},
        headers=headers,
    )
    assert any(item["resource_id"] == str(nurse.id) for item in response.json()["items"])


async def test_admin_verifies_the_chain_against_a_checkpoint(
    client: httpx.AsyncClient, sessions, resources: Resources
) -> None:
    admin, headers = await signed_in(client, sessions, Role.ADMIN)
    await seal_everything(sessions, resources.audit_keys)
    exported = await client.get("/api/v1/audit/checkpoint", headers=headers)
    assert exported.status_code == 200, exported.text
    checkpoint = exported.json()
    assert checkpoint["sequence"] >= 1 and checkpoint["key_id"] == resources.settings.audit_key_id

    report = (await client.get("/api/v1/audit/verify", headers=headers)).json()
    assert report["ok"] is True and report["checked"] >= 1 and report["first_broken_seq"] is None
    against = (await client.post("/api/v1/audit/verify", json=checkpoint, headers=headers)).json()
    assert against["ok"] is True and against["checkpoint_sequence"] == checkpoint["sequence"]

    forged = {**checkpoint, "entries": checkpoint["entries"] + 1}
    refused = (await client.post("/api/v1/audit/verify", json=forged, headers=headers)).json()
    assert refused["ok"] is False and "signature does not verify" in refused["reason"]

    # The checks and the export are on the record too.
    mine = await client.get(
        "/api/v1/audit/events",
        params={"actor_id": str(admin.id), "resource_type": "audit_chain"},
        headers=headers,
    )
    assert sorted(item["action"] for item in mine.json()["items"]) == ["export", "verify", "verify", "verify"]


async def test_a_malformed_checkpoint_is_422(client: httpx.AsyncClient, sessions) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    response = await client.post("/api/v1/audit/verify", json={"sequence": "three"}, headers=headers)
    assert response.status_code == 422
    assert any(error["pointer"] == "#/body/sequence" for error in response.json()["errors"])


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_only_admins_read_the_log(client: httpx.AsyncClient, sessions, role: Role) -> None:
    _, headers = await signed_in(client, sessions, role)
    for path in ("/api/v1/audit/events", "/api/v1/audit/verify", "/api/v1/audit/checkpoint"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await client.post("/api/v1/audit/verify", json={}, headers=headers)
    assert response.status_code == 403


async def test_unauthenticated_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/audit/events")).status_code == 401


async def test_bad_filters_are_422(client: httpx.AsyncClient, sessions) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    response = await client.get("/api/v1/audit/events", params={"outcome": "maybe"}, headers=headers)
    assert response.status_code == 422
    assert any(error["pointer"] == "#/query/outcome" for error in response.json()["errors"])
