"""FHIR Device and DeviceMetric: standard identifiers, search, the Observation link, the patient scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import SYSTEM, Role
from core.sessions import transaction
from devices.registry import service
from devices.registry.schemas import DeviceCreate, DeviceRead
from devices.vitals.models import VitalReading
from tests.devices.registry_builders import bind_device, device_body
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, outcome

BASE = "/fhir/R4"
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
# A GS1 UDI as printed on a label: (01) GTIN, (17) expiry, (21) serial.
UDI = "(01)00643169007222(17)300128(21)BLC200461H"


async def _monitor(sessions: async_sessionmaker[AsyncSession], **identifiers: str) -> DeviceRead:
    data = DeviceCreate.model_validate(device_body(**identifiers))
    async with transaction(sessions) as session:
        return await service.register_device(session=session, actor=SYSTEM, device=data)


async def _reading(sessions: async_sessionmaker[AsyncSession], device: DeviceRead, patient_id) -> None:
    async with transaction(sessions) as session:
        session.add(
            VitalReading(
                time=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5),
                device_id=device.device_id,
                patient_id=patient_id,
                metric="59408-5",
                value=96.0,
                unit="%",
            )
        )


async def _search(client: httpx.AsyncClient, headers: dict[str, str], kind: str, **params: str) -> dict:
    return fhir_json(await client.get(f"{BASE}/{kind}", params=params, headers=headers))


async def test_a_device_shows_its_standard_identifiers_and_is_found_by_each(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await builders.patient_user(client, sessions)
    device = await _monitor(sessions, eui64="00:1b:c5:ff:fe:0a:12:34", udi=UDI)
    assert device.eui64 == "001BC5FFFE0A1234"
    await bind_device(sessions, device.id, patient_id=user.patient_id)
    staff = await builders.staff_headers(client, sessions, Role.NURSE)

    resource = fhir_json(await client.get(f"{BASE}/Device/{device.id}", headers=staff))
    by_system = {i.get("system"): i["value"] for i in resource["identifier"]}
    assert by_system[EUI64_SYSTEM] == "00-1B-C5-FF-FE-0A-12-34"
    assert by_system["urn:ownat:device-id"] == device.device_id
    assert resource["serialNumber"] == device.serial and resource["manufacturer"] == "Testmed"
    assert resource["udiCarrier"] == [{"deviceIdentifier": "00643169007222", "carrierHRF": UDI}]
    assert resource["patient"] == {"reference": f"Patient/{user.patient_id}"}
    assert resource["status"] == "active"

    for params in (
        {"identifier": f"{EUI64_SYSTEM}|00-1B-C5-FF-FE-0A-12-34"},
        {"identifier": "001BC5FFFE0A1234"},
        {"identifier": device.serial},
        {"identifier": f"urn:ownat:device-id|{device.device_id}"},
        {"udi-di": "00643169007222"},
        {"patient": f"Patient/{user.patient_id}"},
    ):
        assert entry_ids(await _search(client, staff, "Device", **params)) == [str(device.id)], params
    assert (await _search(client, staff, "Device", identifier=f"{EUI64_SYSTEM}|FFFFFFFFFFFFFFFF"))[
        "total"
    ] == 0

    metrics = await _search(client, staff, "DeviceMetric", source=f"Device/{device.id}")
    assert metrics["total"] == 6  # a bedside monitor: HR, SpO2, RR, NIBP systolic and diastolic, temperature
    spo2 = next(e["resource"] for e in metrics["entry"] if e["resource"]["id"].endswith(".spo2"))
    assert {c["code"] for c in spo2["type"]["coding"]} == {"59408-5", "150456"}
    assert spo2["source"]["reference"] == f"Device/{device.id}" and spo2["unit"]["text"] == "%"
    by_mdc = await _search(
        client, staff, "DeviceMetric", source=f"Device/{device.id}", type="urn:iso:std:iso:11073:10101|150456"
    )
    assert entry_ids(by_mdc) == [spo2["id"]]
    assert fhir_json(await client.get(f"{BASE}/DeviceMetric/{spo2['id']}", headers=staff))["id"] == spo2["id"]
    with_device = await _search(client, staff, "DeviceMetric", _id=spo2["id"], _include="DeviceMetric:source")
    assert [e["resource"]["resourceType"] for e in with_device["entry"]] == ["DeviceMetric", "Device"]
    with_metrics = await _search(
        client, staff, "Device", _id=str(device.id), _revinclude="DeviceMetric:source"
    )
    assert len(with_metrics["entry"]) == 1 + 6
    outcome(await client.get(f"{BASE}/DeviceMetric/{device.id}.glucose", headers=staff), 404)


async def test_vital_sign_observations_link_the_device_that_measured_them(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    device = await _monitor(sessions)
    await bind_device(sessions, device.id, patient_id=user.patient_id)
    await _reading(sessions, device, user.patient_id)

    [entry] = (await _search(client, headers, "Observation", code="59408-5"))["entry"]
    link = entry["resource"]["device"]
    assert link["reference"] == f"Device/{device.id}" and link["display"] == device.device_id
    # The patient follows the link to the device they wear.
    worn = fhir_json(await client.get(f"{BASE}/{link['reference']}", headers=headers))
    assert worn["serialNumber"] == device.serial


async def test_a_patient_sees_only_the_devices_bound_to_them_and_a_refusal_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    me, headers = await builders.patient_user(client, sessions)
    other, _ = await builders.patient_user(client, sessions)
    mine = await _monitor(sessions)
    theirs = await _monitor(sessions)
    loose = await _monitor(sessions)  # bound to nobody
    await bind_device(sessions, mine.id, patient_id=me.patient_id)
    await bind_device(sessions, theirs.id, patient_id=other.patient_id)

    assert outcome(await client.get(f"{BASE}/Device/{mine.id}"), 401)  # no token: nobody sees a device
    assert outcome(await client.get(f"{BASE}/DeviceMetric"), 401)
    assert entry_ids(await _search(client, headers, "Device")) == [str(mine.id)]
    assert (await _search(client, headers, "Device", identifier=theirs.serial))["total"] == 0
    assert (
        outcome(await client.get(f"{BASE}/Device/{theirs.id}", headers=headers), 403)["code"] == "forbidden"
    )
    outcome(await client.get(f"{BASE}/Device/{loose.id}", headers=headers), 404)
    outcome(await client.get(f"{BASE}/DeviceMetric/{theirs.id}.hr", headers=headers), 403)
    sources = {
        e["resource"]["source"]["reference"]
        for e in (await _search(client, headers, "DeviceMetric"))["entry"]
    }
    assert sources == {f"Device/{mine.id}"}
    async with sessions() as session:
        refusals = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_id == me.id,
                    AuditEvent.patient_id == other.patient_id,
                    AuditEvent.resource_type == "fhir.Device",
                    AuditEvent.outcome == "denied",
                )
            )
        )
    assert refusals, "the refused read of another patient's device is audited"


async def test_bad_identifiers_are_refused_naming_the_field(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = await builders.staff_headers(client, sessions, Role.ADMIN)
    bad = await client.post("/api/v1/devices", json=device_body(eui64="00-1B-C5"), headers=admin)
    assert bad.status_code == 422 and "eui64" in bad.text and "16 hexadecimal digits" in bad.text
    first = await client.post("/api/v1/devices", json=device_body(eui64="0011223344556677"), headers=admin)
    assert first.status_code == 201, first.text
    again = await client.post(
        "/api/v1/devices", json=device_body(eui64="00-11-22-33-44-55-66-77"), headers=admin
    )
    assert again.status_code == 409 and "0011223344556677" in again.text
    changed = await client.patch(
        f"/api/v1/devices/{first.json()['id']}", json={"udi": UDI, "eui64": None}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["udi"], changed.json()["eui64"]) == (UDI, None)
