"""User administration: only administrators, staff creation, deactivation, paging, self-protection."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from tests.builders import create_user, login, login_tokens, signed_in, strong_password, unique_email


def staff_payload(role: str = "nurse") -> dict[str, str]:
    return {
        "email": unique_email(role),
        "password": strong_password(),
        "full_name": "New Staff",
        "role": role,
    }


async def test_admin_creates_a_staff_account_that_can_sign_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin, headers = await signed_in(client, sessions, Role.ADMIN)
    payload = staff_payload("clinician")
    response = await client.post("/api/v1/users", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["role"] == "clinician"
    assert created["patient_id"] is None
    await login(client, payload["email"], payload["password"])
    async with sessions() as session:
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.actor_id == admin.id, AuditEvent.resource_id == created["id"]
                )
            )
        )
    assert "create" in actions


async def test_staff_accounts_cannot_have_the_patient_role(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    response = await client.post("/api/v1/users", json=staff_payload("patient"), headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_only_admins_reach_users(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    user, headers = await signed_in(client, sessions, role)
    assert (await client.post("/api/v1/users", json=staff_payload(), headers=headers)).status_code == 403
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 403
    assert (await client.get(f"/api/v1/users/{user.id}", headers=headers)).status_code == 403
    patch = await client.patch(f"/api/v1/users/{user.id}", json={"role": "admin"}, headers=headers)
    assert patch.status_code == 403
    assert patch.headers["content-type"].startswith("application/problem+json")


async def test_users_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401
    assert (await client.post("/api/v1/users", json=staff_payload())).status_code == 401


async def test_deactivated_user_cannot_sign_in_or_refresh(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, admin_headers = await signed_in(client, sessions, Role.ADMIN)
    nurse, password = await create_user(sessions, role=Role.NURSE)
    tokens = await login_tokens(client, nurse.email, password)
    response = await client.patch(
        f"/api/v1/users/{nurse.id}", json={"is_active": False}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    refused = await client.post("/api/v1/auth/login", json={"email": nurse.email, "password": password})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The email or password is incorrect."
    stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert stale.status_code == 401


async def test_admin_cannot_deactivate_or_demote_themselves(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin, headers = await signed_in(client, sessions, Role.ADMIN)
    for change in ({"is_active": False}, {"role": "nurse"}):
        response = await client.patch(f"/api/v1/users/{admin.id}", json=change, headers=headers)
        assert response.status_code == 409, response.text
    renamed = await client.patch(
        f"/api/v1/users/{admin.id}", json={"full_name": "Still Admin"}, headers=headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["full_name"] == "Still Admin"


async def test_admin_changes_a_staff_role_but_not_across_patient_and_staff(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    patient, _ = await create_user(sessions, role=Role.PATIENT)
    promoted = await client.patch(f"/api/v1/users/{nurse.id}", json={"role": "clinician"}, headers=headers)
    assert promoted.json()["role"] == "clinician"
    crossing = await client.patch(f"/api/v1/users/{patient.id}", json={"role": "nurse"}, headers=headers)
    assert crossing.status_code == 422
    unknown = await client.patch(f"/api/v1/users/{patient.id}", json={"password_hash": "x"}, headers=headers)
    assert unknown.status_code == 422


async def test_get_user_and_unknown_user(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    patient, _ = await create_user(sessions, role=Role.PATIENT)
    found = await client.get(f"/api/v1/users/{patient.id}", headers=headers)
    assert found.status_code == 200
    assert found.json()["patient_id"] == str(patient.patient_id)
    assert (await client.get(f"/api/v1/users/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_listing_pages_through_every_user_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    mine = {str((await create_user(sessions, role=Role.CLINICIAN))[0].id) for _ in range(3)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {
            "role": "clinician",
            "limit": 2,
            **({"cursor": cursor} if cursor else {}),
        }
        page = (await client.get("/api/v1/users", params=params, headers=headers)).json()
        assert len(page["items"]) <= 2
        assert all(item["role"] == "clinician" for item in page["items"])
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))


async def test_listing_refuses_a_bad_cursor_and_limit(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    assert (
        await client.get("/api/v1/users", params={"cursor": "not-a-cursor"}, headers=headers)
    ).status_code == 422
    assert (await client.get("/api/v1/users", params={"limit": 101}, headers=headers)).status_code == 422
