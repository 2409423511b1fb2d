"""A ward for the dashboard's browser tests: beds, an admitted patient with a bound monitor, a nurse,
and the real paths that feed the page (MQTT to Mosquitto, an ingest worker, the alarm engine)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Bed, Ward
from clinical.patients.models import Patient
from core.db import utc_now
from core.identity.models import User
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from devices.registry.models import DeviceBinding
from realtime.alarms import charting
from realtime.alarms.schemas import AlarmChange, ThresholdSet
from tests.builders import create_user
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.devices.ingest_helpers import iso, register_devices, unique_device_id
from tests.realtime.alarm_builders import evaluate_vitals_message
from tests.web.conftest import LiveServer

HEART_RATE = "8867-4"


@dataclass
class WardWorld:
    ward: Ward
    beds: list[Bed]
    patient: Patient
    device_id: str
    nurse: User
    nurse_password: str

    @property
    def topic(self) -> str:
        return f"ownat/v1/devices/{self.device_id}/vitals"


async def ward_world(sessions: async_sessionmaker[AsyncSession], *, beds: int = 3) -> WardWorld:
    """A ward with `beds` beds, a patient in B1 with a monitor bound to them and the bed, a nurse."""
    ward, made = await create_ward_with_beds(sessions, beds=beds)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=made[0].id)
    device_id = unique_device_id("dash")
    rows = await register_devices(sessions, [device_id])
    async with transaction(sessions) as session:
        # Bound to the bed as well as the patient, so its readings go out on the ward's channel too.
        session.add(
            DeviceBinding(
                device_uuid=rows[device_id],
                patient_id=patient.id,
                bed_id=made[0].id,
                ward_id=ward.id,
                start_at=utc_now() - timedelta(hours=2),
            )
        )
    nurse, password = await create_user(sessions, role=Role.NURSE, full_name="Nora Nightingale")
    return WardWorld(ward, made, patient, device_id, nurse, password)


async def tight_heart_rate_limit(sessions: async_sessionmaker[AsyncSession], patient_id) -> None:
    """A clinician sets HR above 120 to alarm at once (no condition delay), high priority."""
    clinician, _ = await create_user(sessions, role=Role.CLINICIAN)
    async with transaction(sessions) as session:
        await charting.set_thresholds(
            session=session,
            principal=clinician.as_principal(),
            patient_id=patient_id,
            items=[ThresholdSet(metric="hr", low=40, high=120, delay_s=0)],
            now=utc_now(),
        )


async def raise_through_engine(resources: Resources, world: WardWorld, value: float) -> list[AlarmChange]:
    """A patient view test's alarm, raised as the ingest worker's evaluator would raise it."""
    message = {
        "device_id": world.device_id,
        "patient_id": str(world.patient.id),
        "bed_id": str(world.beds[0].id),
        "ward_id": str(world.ward.id),
        "readings": [{"metric": HEART_RATE, "value": value, "unit": "/min", "time": utc_now().isoformat()}],
    }
    return await evaluate_vitals_message(resources, message, now=utc_now())


def vitals_payload(seq: int, at: datetime, **values: float) -> bytes:
    """A device message with one reading per alias given (hr=, spo2=, rr=, sbp=, dbp=, temp=, pr=, map=, etco2=)."""
    units = {"hr": "/min", "spo2": "%", "rr": "/min", "sbp": "mm[Hg]", "dbp": "mm[Hg]", "temp": "Cel",
             "pr": "/min", "map": "mm[Hg]", "etco2": "mm[Hg]"}  # fmt: skip
    readings = [
        {"metric": alias, "value": value, "unit": units[alias], "time": iso(at)}
        for alias, value in values.items()
    ]
    return json.dumps({"v": 1, "seq": seq, "readings": readings}).encode()


async def sign_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    """Signs in through the sign-in page, as a person would, and waits for the landing page."""
    await page.goto(server.url + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("user-name")).to_be_visible()


def tile(page: Page, world: WardWorld, bed_index: int = 0):
    """The tile of a bed, found by its accessible name."""
    return page.get_by_role("article", name=f"Bed {world.beds[bed_index].label}")


def bus_vitals(world: WardWorld, at: datetime, **values: float) -> dict[str, Any]:
    """A bus message in the ingest worker's shape for the world's monitor (metric codes, stored units)."""
    codes = {"hr": ("8867-4", "/min"), "spo2": ("59408-5", "%"), "rr": ("9279-1", "/min")}
    return {
        "device_id": world.device_id,
        "patient_id": str(world.patient.id),
        "bed_id": str(world.beds[0].id),
        "ward_id": str(world.ward.id),
        "readings": [
            {"metric": codes[alias][0], "value": value, "unit": codes[alias][1], "time": at.isoformat()}
            for alias, value in values.items()
        ],
    }
