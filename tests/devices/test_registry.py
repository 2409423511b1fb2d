"""The device registry through the REST API: who may do what, validation, secrets, bindings, status."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.patients.models import Patient
from core.audit.models import AuditEvent
from core.principal import Role
from devices.registry.broker_config import BrokerLayout, render_mosquitto_conf
from devices.registry.credentials import verify_secret
from devices.registry.models import DeviceCredential
from tests.builders import http_client, signed_in
from tests.clinical.builders import audit_trail, create_patient, create_ward_with_beds, signed_in_patient
from tests.devices.registry_builders import (
    bind_device,
    device_body,
    issue_secret,
    register_device,
    unique_device_id,
)

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
Headers = dict[str, str]


@pytest.fixture(scope="module")
async def signed_in_users(
    app: FastAPI, sessions_module: async_sessionmaker[AsyncSession]
) -> tuple[dict[Role, Headers], Patient]:
    """The headers of one signed-in user per role (signing in is slow), and the patient user's record."""
    headers: dict[Role, Headers] = {}
    async with http_client(app) as client:
        for role in (Role.ADMIN, Role.CLINICIAN, Role.NURSE):
            headers[role] = (await signed_in(client, sessions_module, role))[1]
        patient, headers[Role.PATIENT] = await signed_in_patient(client, sessions_module)
    return headers, patient


@pytest.fixture
def role_headers(signed_in_users: tuple[dict[Role, Headers], Patient]) -> dict[Role, Headers]:
    return signed_in_users[0]


@pytest.fixture(scope="module")
def sessions_module(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return app.state.resources.sessions


@pytest.fixture
async def setting(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[dict[str, uuid.UUID]]:
    """A device bound to a patient, and a second device free to bind."""
    patient = await create_patient(sessions)
    bound = await register_device(sessions)
    binding = await bind_device(sessions, bound.id, patient_id=patient.id)
    free = await register_device(sessions)
    yield {"device": bound.id, "free": free.id, "patient": patient.id, "binding": binding.id}


def endpoints(ids: dict[str, uuid.UUID]) -> list[tuple[str, str, dict[str, object] | None, frozenset[Role]]]:
    """(method, path, body, roles allowed) of every registry endpoint."""
    admin, binders = frozenset({Role.ADMIN}), frozenset({Role.CLINICIAN, Role.NURSE})
    staff = admin | binders
    device, free = ids["device"], ids["free"]
    return [
        ("POST", f"{API}/devices", device_body(), admin),
        ("GET", f"{API}/devices", None, staff),
        ("GET", f"{API}/devices/{device}", None, staff),
        ("PATCH", f"{API}/devices/{device}", {"firmware": "9.9"}, admin),
        ("POST", f"{API}/devices/{free}/credentials", None, admin),
        ("POST", f"{API}/devices/{free}/deactivate", {"reason": "repair"}, admin),
        ("POST", f"{API}/devices/{free}/revoke", {"reason": "stolen"}, admin),
        ("POST", f"{API}/devices/{free}/activate", None, admin),
        ("GET", f"{API}/devices/{device}/bindings", None, staff),
        ("POST", f"{API}/devices/{free}/bindings", {"patient_id": str(ids["patient"])}, binders),
        ("POST", f"{API}/bindings/{ids['binding']}/end", None, binders),
    ]


async def test_every_endpoint_needs_a_signed_in_user(
    client: httpx.AsyncClient, setting: dict[str, uuid.UUID]
) -> None:
    paths = [*endpoints(setting), ("GET", f"{API}/patients/{setting['patient']}/devices", None, frozenset())]
    for method, path, body, _ in paths:
        response = await client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN, Role.NURSE, Role.PATIENT])
async def test_each_role_is_refused_what_it_may_not_do(
    client: httpx.AsyncClient,
    role_headers: dict[Role, Headers],
    setting: dict[str, uuid.UUID],
    sessions: async_sessionmaker[AsyncSession],
    role: Role,
) -> None:
    for method, path, body, allowed in endpoints(setting):
        if role in allowed:
            continue
        response = await client.request(method, path, json=body, headers=role_headers[role])
        assert response.status_code == 403, (role, method, path, response.text)
    async with sessions() as session:
        denied = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.patient_id == setting["patient"], AuditEvent.outcome == "denied"
            )
        )
    # Refused attempts on the patient's binding are on the patient's trail (binders are never refused it).
    assert (denied is not None) == (role in (Role.ADMIN, Role.PATIENT))


async def test_a_patient_sees_only_the_devices_bound_to_them(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    signed_in_users: tuple[dict[Role, Headers], Patient],
) -> None:
    role_headers, patient = signed_in_users
    headers = role_headers[Role.PATIENT]
    device = await register_device(sessions)
    binding = await bind_device(sessions, device.id, patient_id=patient.id)

    own = await client.get(f"{API}/patients/{patient.id}/devices", headers=headers)
    assert own.status_code == 200, own.text
    [entry] = own.json()
    assert entry["binding_id"] == str(binding.id)
    assert entry["device"] == {
        "id": str(device.id),
        "device_id": device.device_id,
        "kind": "bedside_monitor",
        "manufacturer": "Testmed",
        "model": "VitalView 5",
    }
    other = await create_patient(sessions)
    refused = await client.get(f"{API}/patients/{other.id}/devices", headers=headers)
    assert refused.status_code == 403
    assert (await client.get(f"{API}/devices/{device.id}", headers=headers)).status_code == 403
    staff_view = await client.get(f"{API}/patients/{patient.id}/devices", headers=role_headers[Role.NURSE])
    assert [e["binding_id"] for e in staff_view.json()] == [str(binding.id)]
    missing = await client.get(f"{API}/patients/{uuid.uuid4()}/devices", headers=role_headers[Role.NURSE])
    assert missing.status_code == 404
    assert ("read", "device_binding", "success") in await audit_trail(sessions, patient_id=patient.id)


async def test_an_admin_registers_reads_and_edits_a_device(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = role_headers[Role.ADMIN]
    body = device_body(kind="pulse_oximeter", firmware=None)
    created = await client.post(f"{API}/devices", json=body, headers=admin)
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["device_id"] == body["device_id"]
    assert device["status"] == "active"
    assert device["credential_issued_at"] is None
    assert device["current_binding"] is None

    edited = await client.patch(
        f"{API}/devices/{device['id']}", json={"firmware": "3.0.0", "model": "VV6"}, headers=admin
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["firmware"], edited.json()["model"]) == ("3.0.0", "VV6")
    cleared = await client.patch(f"{API}/devices/{device['id']}", json={"firmware": None}, headers=admin)
    assert cleared.json()["firmware"] is None
    for bad in ({}, {"model": None}, {"serial": "X"}):
        response = await client.patch(f"{API}/devices/{device['id']}", json=bad, headers=admin)
        assert response.status_code == 422, bad
    read = await client.get(f"{API}/devices/{device['id']}", headers=role_headers[Role.NURSE])
    assert read.json()["model"] == "VV6"
    assert (await client.get(f"{API}/devices/{uuid.uuid4()}", headers=admin)).status_code == 404
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.resource_type == "device", AuditEvent.resource_id == device["id"])
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["create", "update", "update", "read"]


@pytest.mark.parametrize(
    "device_id",
    ["has space", "-leading-dash", "a/b", "plus+", "hash#", "x" * 65, "", "ownat-ingest", "OWNAT-admin"],
)
async def test_a_device_id_must_be_a_valid_wire_id(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], device_id: str
) -> None:
    response = await client.post(
        f"{API}/devices", json=device_body(device_id=device_id), headers=role_headers[Role.ADMIN]
    )
    assert response.status_code == 422, response.text


async def test_device_ids_and_serials_are_unique(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers]
) -> None:
    admin = role_headers[Role.ADMIN]
    first = device_body()
    assert (await client.post(f"{API}/devices", json=first, headers=admin)).status_code == 201
    same_id = await client.post(
        f"{API}/devices", json=device_body(device_id=first["device_id"]), headers=admin
    )
    assert same_id.status_code == 409
    same_serial = await client.post(f"{API}/devices", json=device_body(serial=first["serial"]), headers=admin)
    assert same_serial.status_code == 409
    other_maker = device_body(serial=first["serial"], manufacturer="Othermed")
    assert (await client.post(f"{API}/devices", json=other_maker, headers=admin)).status_code == 201


async def test_a_secret_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = role_headers[Role.ADMIN]
    device = await register_device(sessions)
    issued = await client.post(f"{API}/devices/{device.id}/credentials", headers=admin)
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    first = issued.json()
    assert first["username"] == device.device_id
    assert first["topic_prefix"] == f"ownat/v1/devices/{device.device_id}/"
    assert first["broker_updated"] is False  # this app does not administer a broker
    secret = first["secret"]
    assert len(secret) >= 43

    read = await client.get(f"{API}/devices/{device.id}", headers=admin)
    assert read.json()["credential_issued_at"] is not None
    assert secret not in read.text
    async with sessions() as session:
        [stored] = await session.scalars(
            select(DeviceCredential).where(DeviceCredential.device_uuid == device.id)
        )
    assert stored.secret_hash.startswith("$7$") and secret not in stored.secret_hash
    assert verify_secret(stored.secret_hash, secret)
    assert not verify_secret(stored.secret_hash, secret + "x")

    rotated = (await client.post(f"{API}/devices/{device.id}/credentials", headers=admin)).json()
    assert rotated["secret"] != secret
    async with sessions() as session:
        rows = list(
            await session.scalars(
                select(DeviceCredential)
                .where(DeviceCredential.device_uuid == device.id)
                .order_by(DeviceCredential.issued_at)
            )
        )
    assert [row.id for row in rows] == [
        uuid.UUID(first["credential_id"]),
        uuid.UUID(rotated["credential_id"]),
    ]
    assert rows[0].revoked_reason == "rotated" and rows[0].revoked_at is not None
    assert rows[1].revoked_at is None
    assert verify_secret(rows[1].secret_hash, rotated["secret"])


async def test_nurses_bind_and_unbind_devices(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    nurse = role_headers[Role.NURSE]
    patient = await create_patient(sessions)
    ward, beds = await create_ward_with_beds(sessions, beds=1)
    device = await register_device(sessions)
    path = f"{API}/devices/{device.id}/bindings"

    bound = await client.post(
        path, json={"patient_id": str(patient.id), "bed_id": str(beds[0].id)}, headers=nurse
    )
    assert bound.status_code == 201, bound.text
    binding = bound.json()
    assert (binding["ward_id"], binding["device_id"], binding["end_at"]) == (
        str(ward.id),
        device.device_id,
        None,
    )
    shown = (await client.get(f"{API}/devices/{device.id}", headers=nurse)).json()
    assert shown["current_binding"]["id"] == binding["id"]
    by_ward = await client.get(f"{API}/devices", params={"ward_id": str(ward.id)}, headers=nurse)
    assert [d["id"] for d in by_ward.json()["items"]] == [str(device.id)]
    by_patient = await client.get(f"{API}/devices", params={"patient_id": str(patient.id)}, headers=nurse)
    assert [d["id"] for d in by_patient.json()["items"]] == [str(device.id)]

    overlapping = await client.post(path, json={"patient_id": str(patient.id)}, headers=nurse)
    assert overlapping.status_code == 409
    assert overlapping.json()["binding_id"] == binding["id"]

    ended = await client.post(
        f"{API}/bindings/{binding['id']}/end", json={"reason": "discharged"}, headers=nurse
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["end_reason"] == "discharged" and ended.json()["end_at"] is not None
    again = await client.post(f"{API}/bindings/{binding['id']}/end", headers=nurse)
    assert again.status_code == 409
    rebound = await client.post(
        path, json={"patient_id": str(patient.id)}, headers=role_headers[Role.CLINICIAN]
    )
    assert rebound.status_code == 201
    history = (await client.get(path, headers=nurse)).json()
    assert [b["id"] for b in history] == [rebound.json()["id"], binding["id"]]
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert [a for a in trail if a[0] in ("bind", "unbind")] == [
        ("bind", "device_binding", "success"),
        ("unbind", "device_binding", "success"),
        ("bind", "device_binding", "success"),
    ]


async def test_bindings_are_validated(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    nurse = role_headers[Role.NURSE]
    patient = await create_patient(sessions)
    ward, beds = await create_ward_with_beds(sessions, beds=1)
    other_ward, _ = await create_ward_with_beds(sessions, beds=1)
    device = await register_device(sessions)
    path = f"{API}/devices/{device.id}/bindings"
    invalid = [
        {},
        {"patient_id": str(uuid.uuid4())},
        {"bed_id": str(uuid.uuid4())},
        {"bed_id": str(beds[0].id), "ward_id": str(other_ward.id)},
        {"patient_id": str(patient.id), "ward_id": str(uuid.uuid4())},
        {"patient_id": str(patient.id), "start_at": "2026-01-01T10:00:00"},  # no offset
        {"patient_id": str(patient.id), "extra": 1},
    ]
    for body in invalid:
        response = await client.post(path, json=body, headers=nurse)
        assert response.status_code == 422, (body, response.text)
    missing = await client.post(
        f"{API}/devices/{uuid.uuid4()}/bindings", json={"patient_id": str(patient.id)}, headers=nurse
    )
    assert missing.status_code == 404

    start = datetime.now(UTC) - timedelta(hours=2)
    bed_only = await client.post(
        path, json={"bed_id": str(beds[0].id), "start_at": start.isoformat()}, headers=nurse
    )
    assert bed_only.status_code == 201, bed_only.text
    assert bed_only.json()["ward_id"] == str(ward.id)
    end = f"{API}/bindings/{bed_only.json()['id']}/end"
    too_early = await client.post(
        end, json={"end_at": (start - timedelta(minutes=1)).isoformat()}, headers=nurse
    )
    assert too_early.status_code == 422
    future = await client.post(
        end, json={"end_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, headers=nurse
    )
    assert future.status_code == 422
    backdated = await client.post(
        end, json={"end_at": (start + timedelta(hours=1)).isoformat()}, headers=nurse
    )
    assert backdated.status_code == 200
    # The hour after the backdated end is free again; one starting inside the ended span is not.
    inside = await client.post(
        path,
        json={"patient_id": str(patient.id), "start_at": (start + timedelta(minutes=30)).isoformat()},
        headers=nurse,
    )
    assert inside.status_code == 409
    after = await client.post(
        path,
        json={"patient_id": str(patient.id), "start_at": (start + timedelta(hours=1)).isoformat()},
        headers=nurse,
    )
    assert after.status_code == 201, after.text
    assert (await client.post(f"{API}/bindings/{uuid.uuid4()}/end", headers=nurse)).status_code == 404


async def test_taking_a_device_out_of_service_ends_its_bindings_and_secret(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin, nurse = role_headers[Role.ADMIN], role_headers[Role.NURSE]
    patient = await create_patient(sessions)
    device = await register_device(sessions)
    await issue_secret(sessions, device.id)
    binding = await bind_device(
        sessions, device.id, patient_id=patient.id, start_at=datetime.now(UTC) - timedelta(hours=1)
    )

    assert (
        await client.post(f"{API}/devices/{device.id}/deactivate", json={}, headers=admin)
    ).status_code == 422
    deactivated = await client.post(
        f"{API}/devices/{device.id}/deactivate", json={"reason": "repair"}, headers=admin
    )
    assert deactivated.status_code == 200, deactivated.text
    body = deactivated.json()
    assert (body["status"], body["status_reason"], body["credential_issued_at"]) == (
        "deactivated",
        "repair",
        None,
    )
    assert body["current_binding"] is None
    history = (await client.get(f"{API}/devices/{device.id}/bindings", headers=nurse)).json()
    assert history[0]["id"] == str(binding.id) and history[0]["end_reason"] == "device-deactivated"
    refused = [
        await client.post(
            f"{API}/devices/{device.id}/bindings", json={"patient_id": str(patient.id)}, headers=nurse
        ),
        await client.post(f"{API}/devices/{device.id}/credentials", headers=admin),
        await client.post(f"{API}/devices/{device.id}/deactivate", json={"reason": "again"}, headers=admin),
    ]
    assert [r.status_code for r in refused] == [409, 409, 409]

    revoked = await client.post(
        f"{API}/devices/{device.id}/revoke", json={"reason": "tampered"}, headers=admin
    )
    assert revoked.json()["status"] == "revoked"
    listed = await client.get(f"{API}/devices", params={"status": "revoked", "limit": 200}, headers=admin)
    assert str(device.id) in [d["id"] for d in listed.json()["items"]]
    activated = await client.post(f"{API}/devices/{device.id}/activate", headers=admin)
    assert activated.json()["status"] == "active"
    assert (await client.post(f"{API}/devices/{device.id}/activate", headers=admin)).status_code == 409
    assert (await client.post(f"{API}/devices/{device.id}/credentials", headers=admin)).status_code == 201


async def test_devices_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, role_headers: dict[Role, Headers], sessions: async_sessionmaker[AsyncSession]
) -> None:
    label = unique_device_id("page")
    made = sorted([(await register_device(sessions, device_id=f"{label}-{n}")).device_id for n in range(3)])
    nurse = role_headers[Role.NURSE]
    seen: list[str] = []
    cursor: str | None = label
    while cursor is not None and len(seen) < 3:
        page = await client.get(f"{API}/devices", params={"after": cursor, "limit": 2}, headers=nurse)
        assert page.status_code == 200, page.text
        seen += [d["device_id"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert seen[:3] == made
    kinds = await client.get(f"{API}/devices", params={"kind": "scale"}, headers=nurse)
    assert all(d["kind"] == "scale" for d in kinds.json()["items"])
    assert (await client.get(f"{API}/devices", params={"kind": "toaster"}, headers=nurse)).status_code == 422


def test_the_production_broker_config_is_the_generated_one() -> None:
    deployed = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert deployed == render_mosquitto_conf(BrokerLayout())
