"""Many instances: two api processes and an ingest worker as real processes; a reading over MQTT, and the
alarm the worker raises on it, reach dashboards on both."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from devices.registry.models import DeviceBinding
from realtime.alarms.defaults import HR
from realtime.alarms.models import AlarmPriority, AlarmThreshold
from tests.builders import create_user
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.devices.ingest_helpers import (
    GUARD_S,
    Publisher,
    recent_start,
    register_devices,
    unique_device_id,
    unique_name,
    vitals_payload,
    wait_until,
)
from tests.devices.private_postgres import free_port
from tests.realtime.hub_helpers import HubClient, hub_client, token_for

pytestmark = pytest.mark.asyncio

REPO_ROOT = Path(__file__).resolve().parents[2]

# Starting an api process imports the whole application: 20 s each on a busy 2-core machine.
START_GUARD_S = 120.0


def service_env(settings: Settings) -> dict[str, str]:
    """This run's database, Redis prefix and the machine's Mosquitto, as `OWNAT_` variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=str(settings.database_url),
        OWNAT_REDIS_URL=str(settings.redis_url),
        OWNAT_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        OWNAT_MQTT_URL=str(settings.mqtt_url),
        OWNAT_SECRET_KEY=settings.secret_key.get_secret_value(),
        OWNAT_ENVIRONMENT="test",
        OWNAT_LOG_JSON="false",
    )
    return env


@contextmanager
def process(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, stopped cleanly (or killed) at the end."""
    with log_path.open("ab") as log:
        child = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=GUARD_S)
            except subprocess.TimeoutExpired:
                child.kill()
        child.wait()


def api_instance(port: int) -> list[str]:
    """The command of one api instance with the hub (see `ws_app`)."""
    return [
        sys.executable, "-m", "uvicorn", "--factory", "tests.realtime.ws_app:build",
        "--host", "127.0.0.1", "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning",
    ]  # fmt: skip


async def _serving(port: int) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            return (await http.get(f"http://127.0.0.1:{port}/healthz", timeout=2)).status_code == 200
    except httpx.TransportError:
        return False


async def _log_says(log_path: Path, text: str) -> bool:
    return text in await asyncio.to_thread(log_path.read_text)


async def reading_and_alarm(
    client: HubClient, value: float, patient_id: uuid.UUID
) -> tuple[dict[str, object], dict[str, object]]:
    """The reading of `value` and the alarm it raised, in whichever order they come: alarms are
    evaluated as readings arrive, not after they are stored, so the alarm may come first."""
    reading: dict[str, object] | None = None
    alarm: dict[str, object] | None = None
    while reading is None or alarm is None:
        message = await client.receive_type("vitals", "alarm")
        if message["type"] == "vitals":
            reading = next((r for r in message["readings"] if r["value"] == value), reading)
        elif message["alarm"]["change"] == "raised" and message["alarm"]["alarm"]["patient_id"] == str(
            patient_id
        ):
            alarm = message["alarm"]["alarm"]
    return reading, alarm


async def alarm_change(client: HubClient, patient_id: uuid.UUID, change: str) -> dict[str, object]:
    while True:
        message = await client.receive_type("alarm")
        if message["alarm"]["change"] == change and message["alarm"]["alarm"]["patient_id"] == str(
            patient_id
        ):
            return message["alarm"]["alarm"]


async def test_a_reading_and_its_alarm_from_a_worker_reach_dashboards_on_two_api_instances(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], mqtt_url: str, tmp_path: Path
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    device_id = unique_device_id("hub")
    rows = await register_devices(sessions, [device_id])
    async with transaction(sessions) as session:
        # A bedside monitor bound to the bed (and the patient in it): its readings carry the ward.
        session.add(
            DeviceBinding(
                device_uuid=rows[device_id],
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                start_at=recent_start(3600),
            )
        )
        # No condition delay: the worker raises the alarm on the first heart rate above 150.
        session.add(
            AlarmThreshold(
                patient_id=patient.id, metric=HR, low=40.0, high=150.0, priority=AlarmPriority.HIGH, delay_s=0
            )
        )

    env = service_env(settings)
    # The alarm ends on the first normal value and does not latch: this test is about an alarm's
    # changes reaching both instances, not the policy (tests/realtime/test_alarm_policy.py).
    env.update(OWNAT_ALARM_HYSTERESIS_S="0", OWNAT_ALARM_LATCHING_PRIORITIES="low")
    ports = [free_port(), free_port()]
    ingest_log = tmp_path / "ingest.log"
    ingest = [
        sys.executable, "-m", "ownat.cli", "ingest", "--client-id", unique_name("hub-ingest"),
        "--group", unique_name("hub-group"), "--session-expiry", "60", "--metrics-port", str(free_port()),
    ]  # fmt: skip
    with ExitStack() as children:
        for n, port in enumerate(ports):
            log_path = tmp_path / f"api-{n}.log"
            children.enter_context(process(api_instance(port), env, log_path))
        children.enter_context(process(ingest, env, ingest_log))
        for n, port in enumerate(ports):
            await wait_until(
                functools.partial(_serving, port), what=f"api instance {n} to serve", guard_s=START_GUARD_S
            )
        await wait_until(
            lambda: _log_says(ingest_log, "MQTT subscribed"), what="the ingest worker to subscribe"
        )

        token = token_for(nurse, settings)
        async with (
            hub_client(f"ws://127.0.0.1:{ports[0]}/ws", token) as on_a,
            hub_client(f"ws://127.0.0.1:{ports[1]}/ws", token) as on_b,
        ):
            assert (await on_a.subscribe("ward", ward.id))["type"] == "snapshot"
            assert (await on_b.subscribe("ward", ward.id))["type"] == "snapshot"
            value = 160 + uuid.uuid4().int % 40
            topic = f"ownat/v1/devices/{device_id}/vitals"
            async with Publisher(mqtt_url) as publisher:
                high = vitals_payload(0, recent_start(2), metrics=[("hr", "/min", float(value))])
                await publisher.publish_all([(topic, high)])
                seen_on_a, raised_on_a = await reading_and_alarm(on_a, value, patient.id)
                seen_on_b, raised_on_b = await reading_and_alarm(on_b, value, patient.id)
                raised = [raised_on_a, raised_on_b]
                # Back within limits: the worker resolves the alarm it raised (an update of a stored row).
                normal = vitals_payload(1, recent_start(1), metrics=[("hr", "/min", 80.0)])
                await publisher.publish_all([(topic, normal)])
                resolved = [
                    await alarm_change(on_a, patient.id, "resolved"),
                    await alarm_change(on_b, patient.id, "resolved"),
                ]
    for seen in (seen_on_a, seen_on_b):
        assert (seen["patient_id"], seen["bed_id"], seen["device_id"]) == (
            str(patient.id),
            str(bed.id),
            device_id,
        )
    for alarm in raised:
        assert (alarm["kind"], alarm["priority"], alarm["status"], alarm["value"]) == (
            "threshold",
            "high",
            "raised",
            value,
        )
    assert [alarm["id"] for alarm in resolved] == [raised[0]["id"]] * 2
    assert all(alarm["status"] == "resolved" for alarm in resolved)
