"""IHE PCD-01 posted to the HL7 endpoint: into the same ingest pipeline when the instance receives them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.principal import Role
from devices.protocol.pcd01 import Observation, pcd01_message
from devices.vitals.models import VitalReading
from tests.builders import http_client, signed_in
from tests.devices.ingest_helpers import bind, new_patient, recent_start, register_devices
from tests.devices.pcd_helpers import ack_fields, new_eui64

HL7 = {"Content-Type": "x-application/hl7-v2+er7"}


async def test_pcd01_over_http_is_stored_and_acknowledged_after_the_commit(app_with, sessions) -> None:
    eui = new_eui64()
    rows = await register_devices(sessions, [eui])
    await bind(sessions, rows[eui], await new_patient(sessions), recent_start() - timedelta(hours=1))
    at = recent_start(5)
    raw = pcd01_message(eui64=eui, observations=[Observation("59408-5", 97, at)], control_id="H-1")
    async with app_with(pcd_http=True) as app, http_client(app) as client:
        _user, headers = await signed_in(client, sessions, Role.ADMIN)
        response = await client.post("/api/v1/hl7/oru", content=raw.encode(), headers={**headers, **HL7})
    assert response.status_code == 200, response.text
    assert ack_fields(response.text)["MSA"][1:3] == ["AA", "H-1"]
    async with sessions() as session:
        values = (
            await session.scalars(select(VitalReading.value).where(VitalReading.device_id == eui))
        ).all()
    assert values == [97.0]


async def test_pcd01_over_http_is_refused_clearly_where_the_instance_does_not_receive_them(
    client, sessions
) -> None:
    _user, headers = await signed_in(client, sessions, Role.ADMIN)
    raw = pcd01_message(
        eui64=new_eui64(), observations=[Observation("8867-4", 70, recent_start(5))], control_id="H-2"
    )
    response = await client.post("/api/v1/hl7/oru", content=raw.encode(), headers={**headers, **HL7})
    assert response.status_code == 503
    assert "ownat mllp" in response.json()["detail"]


async def test_pcd01_over_http_needs_an_interface_account(client, sessions) -> None:
    _user, headers = await signed_in(client, sessions, Role.NURSE)
    raw = pcd01_message(
        eui64=new_eui64(), observations=[Observation("8867-4", 70, recent_start(5))], control_id="H-3"
    )
    response = await client.post("/api/v1/hl7/oru", content=raw.encode(), headers={**headers, **HL7})
    assert response.status_code == 403
