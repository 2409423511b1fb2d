"""What the administration pages rely on over HTTP: their routes, and administrators placing devices at beds."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.builders import signed_in
from tests.clinical.builders import create_patient, create_ward_with_beds
from tests.devices.registry_builders import bind_device, register_device

API = "/api/v1"


@pytest.mark.parametrize("path", ["/admin/", "/admin/users/", "/admin/devices/", "/admin/analytics/"])
async def test_admin_pages_are_served_with_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert '<script type="module" src="/static/admin/admin.js">' in response.text


async def test_unknown_sections_are_not_found_and_the_bare_path_gains_its_slash(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/admin/secrets/")
    assert missing.status_code == 404
    assert "/admin/secrets/" in missing.json()["detail"]
    bare = await client.get("/admin")
    assert bare.status_code == 308 and bare.headers["location"] == "/admin/"
    assert (await client.get("/static/admin/chart.js")).headers["content-type"].startswith("text/javascript")


async def test_an_admin_places_a_device_at_a_bed_and_ends_that_placement(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    ward, beds = await create_ward_with_beds(sessions)
    device = await register_device(sessions)
    placed = await client.post(
        f"{API}/devices/{device.id}/bindings", json={"bed_id": str(beds[0].id)}, headers=headers
    )
    assert placed.status_code == 201, placed.text
    binding = placed.json()
    assert binding["bed_id"] == str(beds[0].id) and binding["ward_id"] == str(ward.id)
    assert binding["patient_id"] is None
    ended = await client.post(f"{API}/bindings/{binding['id']}/end", json={}, headers=headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["end_at"] is not None


async def test_binding_to_a_patient_stays_a_clinical_act(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.ADMIN)
    _, beds = await create_ward_with_beds(sessions)
    patient = await create_patient(sessions)
    device = await register_device(sessions)
    refused = await client.post(
        f"{API}/devices/{device.id}/bindings",
        json={"bed_id": str(beds[0].id), "patient_id": str(patient.id)},
        headers=headers,
    )
    assert refused.status_code == 403
    # A nurse's binding to a patient cannot be ended by an administrator either.
    nursed = await bind_device(sessions, device.id, patient_id=patient.id)
    ending = await client.post(f"{API}/bindings/{nursed.id}/end", json={}, headers=headers)
    assert ending.status_code == 403
    assert "nurse" in ending.json()["detail"] or "clinician" in ending.json()["detail"]


async def test_a_nurse_still_cannot_register_devices(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in(client, sessions, Role.NURSE)
    response = await client.get(f"{API}/system/status", headers=headers)
    assert response.status_code == 403
