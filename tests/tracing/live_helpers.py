"""A monitored bed for the live path's tracing tests: a registered device bound to a patient in a
ward's bed, a nurse who watches the ward, and MQTT 5 publishing with user properties."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.identity.models import User
from core.principal import Role
from core.sessions import transaction
from devices.registry.models import DeviceBinding
from tests.builders import create_user
from tests.clinical.builders import create_patient, create_ward_with_beds
from tests.devices.ingest_helpers import (
    GUARD_S,
    register_devices,
    unique_device_id,
    unique_name,
    vitals_payload,
)


@dataclass(frozen=True, slots=True)
class MonitoredBed:
    device_id: str
    ward_id: uuid.UUID
    nurse: User


async def monitored_bed(sessions: async_sessionmaker[AsyncSession]) -> MonitoredBed:
    """A device bound (from a minute ago) to a new patient in a new ward's bed, and a nurse."""
    device_id = unique_device_id("trace")
    (device_uuid,) = (await register_devices(sessions, [device_id])).values()
    ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    async with transaction(sessions) as session:
        session.add(
            DeviceBinding(
                id=uuid.uuid4(),
                device_uuid=device_uuid,
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                start_at=utc_now() - timedelta(minutes=1),
            )
        )
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    return MonitoredBed(device_id=device_id, ward_id=ward.id, nurse=nurse)


async def publish_vitals(mqtt_url: str, device_id: str, *, user_properties: list[tuple[str, str]]) -> None:
    """One vitals message at QoS 1 over MQTT 5, with these user properties; returns once the broker has it."""
    # paho blocks until the broker acknowledged: on a thread of its own.
    await asyncio.to_thread(_publish, mqtt_url, device_id, user_properties)


def _publish(mqtt_url: str, device_id: str, user_properties: list[tuple[str, str]]) -> None:
    parts = urlsplit(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=unique_name("trace-dev"), protocol=mqtt.MQTTv5
    )
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, 30)
    client.loop_start()
    try:
        properties = Properties(PacketTypes.PUBLISH)
        if user_properties:
            properties.UserProperty = user_properties
        payload = vitals_payload(1, utc_now().replace(microsecond=0))
        info = client.publish(f"ownat/v1/devices/{device_id}/vitals", payload, qos=1, properties=properties)
        info.wait_for_publish(timeout=GUARD_S)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()
