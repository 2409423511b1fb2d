"""Many instances: two api processes and an ingest worker; a reading over MQTT reaches dashboards on both."""

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

from core.identity.principal import Role
from core.sessions import transaction
from core.settings import Settings
from devices.registry.models import DeviceBinding
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


async def reading_with_value(client: HubClient, value: float) -> dict[str, object]:
    while True:
        message = await client.receive_type("vitals")
        for reading in message["readings"]:
            if reading["value"] == value:
                return reading


async def test_a_reading_ingested_by_a_worker_reaches_dashboards_on_two_api_instances(
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

    env = service_env(settings)
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
            value = 60 + uuid.uuid4().int % 40
            payload = vitals_payload(0, recent_start(1), metrics=[("hr", "/min", float(value))])
            async with Publisher(mqtt_url) as publisher:
                await publisher.publish_all([(f"ownat/v1/devices/{device_id}/vitals", payload)])
            seen_on_a = await reading_with_value(on_a, value)
            seen_on_b = await reading_with_value(on_b, value)
    for seen in (seen_on_a, seen_on_b):
        assert (seen["patient_id"], seen["bed_id"], seen["device_id"]) == (
            str(patient.id),
            str(bed.id),
            device_id,
        )
