"""Broker access control on a real Mosquitto of our own, started from the configuration the platform produces.

Each test runs its own broker on a free loopback port (never the machine's broker on 1883), with the
dynamic security plugin loaded from the registry's `ownat broker-config` output.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.routers.devices import get_broker_access
from core.bus import InProcessBus
from core.db import create_engine
from core.principal import Role
from core.sessions import create_sessionmaker
from core.settings import Settings
from devices.ingest.worker import IngestWorker
from devices.protocol import ack_topic, parse_mqtt_url
from devices.registry import broker_jobs, dynsec
from devices.registry.broker_access import BrokerAccess
from devices.registry.broker_config import CONF_FILE, BrokerLayout
from devices.registry.broker_jobs import sync_once, write_config
from devices.registry.dynsec import Account
from devices.registry.dynsec_client import DynsecClient
from devices.registry.models import DeviceCredential
from tests.builders import http_client, signed_in
from tests.devices.ingest_helpers import count_readings, vitals_payload, wait_until, worker_config
from tests.devices.private_mosquitto import Mqtt5Client, PrivateMosquitto, free_port, private_mosquitto
from tests.devices.registry_builders import issue_secret, provisioned_device, register_device, revoke

API = "/api/v1"
GUARD_S = 10.0  # a guard against hanging, never a timing assertion
PLUGIN = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
NOT_AUTHORIZED = 0x87
NO_SUBSCRIBERS = 0x10
Headers = dict[str, str]


@dataclass
class SecuredBroker:
    broker: PrivateMosquitto
    admin: Account
    ingest: Account
    clients: list[Mqtt5Client]

    @property
    def admin_url(self) -> str:
        return f"mqtt://{self.admin.username}:{self.admin.password}@127.0.0.1:{self.broker.port}"

    def access(self) -> BrokerAccess:
        return BrokerAccess(DynsecClient(parse_mqtt_url(self.admin_url), timeout_s=GUARD_S))

    async def client(self, username: str, password: str) -> tuple[Mqtt5Client, int]:
        """A client and its CONNACK reason code; closed at the end of the test."""
        client = Mqtt5Client(self.broker.port, username, password)
        self.clients.append(client)
        return client, await client.connect()

    async def ingest_subscriber(self) -> Mqtt5Client:
        """The ingest account, subscribed to every device's vitals as a shared subscription."""
        client, code = await self.client(self.ingest.username, self.ingest.password)
        assert code == 0, self.broker.log()
        assert await client.subscribe("$share/ingest/ownat/v1/devices/+/vitals") == [1]
        return client


def accounts() -> tuple[Account, Account]:
    return Account("ownat-admin", secrets.token_hex(16)), Account("ownat-ingest", secrets.token_hex(16))


def layout_for(directory: Path, port: int) -> BrokerLayout:
    return BrokerLayout(
        port=port,
        bind_address="127.0.0.1",
        plugin_path=PLUGIN,
        config_dir=str(directory),
        persistence_dir=None,
    )


@contextmanager
def broker_directory() -> Iterator[Path]:
    # Not under pytest's tmp_path: Mosquitto drops to its own user, who must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="ownat-acl-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@asynccontextmanager
async def secure_broker(
    sessions: async_sessionmaker[AsyncSession], *, with_ingest: bool = True
) -> AsyncIterator[SecuredBroker]:
    """A private Mosquitto started from the configuration the registry produces right now."""
    admin, ingest = accounts()
    port = free_port()
    with broker_directory() as directory:
        await write_config(
            sessions=sessions,
            out_dir=directory,
            layout=layout_for(directory, port),
            admin=admin,
            ingest=ingest if with_ingest else None,
        )
        with private_mosquitto(config_path=directory / CONF_FILE, port=port, directory=directory) as broker:
            running = SecuredBroker(broker, admin, ingest, [])
            try:
                yield running
            finally:
                for client in running.clients:
                    await client.close()


@pytest.fixture(scope="module")
async def administered_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, Headers]]:
    """An app of this module's own, whose broker each test points at its private one; and an admin's headers."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with http_client(application) as http:
            _, admin = await signed_in(http, application.state.resources.sessions, Role.ADMIN)
        yield application, admin


async def test_the_command_line_produces_a_configuration_the_broker_enforces(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    device, secret = await provisioned_device(sessions)
    admin, ingest = accounts()
    port = free_port()
    with broker_directory() as directory:
        admin_url = f"mqtt://{admin.username}:{admin.password}@127.0.0.1:{port}"
        environment = {
            **os.environ,
            "OWNAT_ENVIRONMENT": "test",
            "OWNAT_DATABASE_URL": settings.effective_database_url,
            "OWNAT_MQTT_ADMIN_URL": admin_url,
            "OWNAT_MQTT_URL": f"mqtt://{ingest.username}:{ingest.password}@127.0.0.1:{port}",
            "OWNAT_LOG_JSON": "false",
        }

        async def ownat(*arguments: str) -> str:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ownat.cli", "broker-config", *arguments,
                env=environment, cwd=directory, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
            assert process.returncode == 0, output.decode()
            return output.decode()

        layout = ["--port", str(port), "--bind", "127.0.0.1", "--plugin", PLUGIN, "--no-persistence"]
        await ownat("--out", str(directory), *layout)
        assert oct((directory / "dynamic-security.json").stat().st_mode & 0o777) == "0o600"
        with private_mosquitto(config_path=directory / CONF_FILE, port=port, directory=directory) as broker:
            secured = SecuredBroker(broker, admin, ingest, [])
            try:
                ingest_client = await secured.ingest_subscriber()
                device_client, code = await secured.client(device.device_id, secret)
                assert code == 0, broker.log()
                assert await device_client.publish(f"ownat/v1/devices/{device.device_id}/vitals", b"{}") == 0
                assert (
                    await ingest_client.next_message()
                ).topic == f"ownat/v1/devices/{device.device_id}/vitals"
                assert "broker synced" in await ownat("--sync")
            finally:
                for client in secured.clients:
                    await client.close()


async def test_a_device_publishes_under_its_own_id_and_ingest_receives_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    device, secret = await provisioned_device(sessions)
    async with secure_broker(sessions) as secured:
        ingest = await secured.ingest_subscriber()
        client, code = await secured.client(device.device_id, secret)
        assert code == 0, secured.broker.log()
        assert await client.publish(f"ownat/v1/devices/{device.device_id}/vitals", b"{}") == 0
        for kind in ("status", "events"):
            # Accepted; nobody listens to these here, which MQTT 5 reports as 0x10 "no matching subscribers".
            assert (
                await client.publish(f"ownat/v1/devices/{device.device_id}/{kind}", b"{}") == NO_SUBSCRIBERS
            )
        message = await ingest.next_message()
        assert (message.topic, message.payload) == (f"ownat/v1/devices/{device.device_id}/vitals", b"{}")


async def test_a_wrong_password_and_an_unknown_device_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    device, secret = await provisioned_device(sessions)
    unprovisioned = await register_device(sessions)
    async with secure_broker(sessions) as secured:
        _, wrong = await secured.client(device.device_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        _, unknown = await secured.client("t-never-registered", secret)
        _, no_secret_yet = await secured.client(unprovisioned.device_id, secret)
        _, admin_as_device = await secured.client(secured.admin.username, secret)
    assert [wrong, unknown, no_secret_yet, admin_as_device] == [NOT_AUTHORIZED] * 4


async def test_a_device_cannot_publish_or_subscribe_under_another_device(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    device, secret = await provisioned_device(sessions)
    other, _ = await provisioned_device(sessions)
    async with secure_broker(sessions) as secured:
        ingest = await secured.ingest_subscriber()
        client, _ = await secured.client(device.device_id, secret)

        assert await client.publish(f"ownat/v1/devices/{other.device_id}/vitals", b"forged") == NOT_AUTHORIZED
        assert await client.publish("ownat/v1/elsewhere", b"x") == NOT_AUTHORIZED
        # Not delivered: the next message the ingest account sees is the device's own, published after.
        assert await client.publish(f"ownat/v1/devices/{device.device_id}/vitals", b"own") == 0
        assert (await ingest.next_message()).payload == b"own"

        assert await client.subscribe(f"ownat/v1/devices/{other.device_id}/#") == [NOT_AUTHORIZED]
        assert await client.subscribe("ownat/v1/devices/+/vitals") == [NOT_AUTHORIZED]
        assert await client.subscribe(f"ownat/v1/devices/{device.device_id}/#") == [1]
        # The ingest account listens, and publishes nothing but acknowledgements.
        assert await ingest.publish(f"ownat/v1/devices/{device.device_id}/vitals", b"x") == NOT_AUTHORIZED
        assert await client.subscribe(ack_topic(other.device_id)) == [NOT_AUTHORIZED]
        ack = b'{"v":1,"seq":3,"seqs":[[3,3]]}'
        assert await ingest.publish(ack_topic(device.device_id), ack) == 0
        assert (await client.next_message()).payload == ack
        # A forged acknowledgement would have the device delete readings never stored.
        assert (
            await client.publish(ack_topic(device.device_id), b'{"v":1,"seq":9,"seqs":[[0,9]]}')
            == NOT_AUTHORIZED
        )


async def test_revoking_through_the_api_cuts_the_device_off_the_running_broker(
    sessions: async_sessionmaker[AsyncSession], administered_app: tuple[FastAPI, Headers]
) -> None:
    app, admin = administered_app
    async with secure_broker(sessions) as secured:
        access = secured.access()
        app.dependency_overrides[get_broker_access] = lambda: access
        async with http_client(app) as http:
            device = (await http.post(f"{API}/devices", json=device_payload(), headers=admin)).json()
            issued = await http.post(f"{API}/devices/{device['id']}/credentials", headers=admin)
            assert issued.status_code == 201, issued.text
            assert issued.json()["broker_updated"] is True
            secret = issued.json()["secret"]
            pid = secured.broker.pid

            client, code = await secured.client(device["device_id"], secret)
            assert code == 0, secured.broker.log()
            revoked = await http.post(
                f"{API}/devices/{device['id']}/revoke", json={"reason": "stolen"}, headers=admin
            )
            assert revoked.status_code == 200, revoked.text
            await client.wait_disconnected()
            _, again = await secured.client(device["device_id"], secret)
            assert again == NOT_AUTHORIZED
            assert secured.broker.pid == pid  # the same broker process, never restarted


async def test_rotating_a_secret_through_the_api_replaces_it_on_the_broker(
    sessions: async_sessionmaker[AsyncSession], administered_app: tuple[FastAPI, Headers]
) -> None:
    app, admin = administered_app
    async with secure_broker(sessions) as secured:
        access = secured.access()
        app.dependency_overrides[get_broker_access] = lambda: access
        async with http_client(app) as http:
            device = (await http.post(f"{API}/devices", json=device_payload(), headers=admin)).json()
            path = f"{API}/devices/{device['id']}/credentials"
            old = (await http.post(path, headers=admin)).json()["secret"]
            client, code = await secured.client(device["device_id"], old)
            assert code == 0
            rotated = await http.post(path, headers=admin)
            assert rotated.status_code == 201, rotated.text
            new = rotated.json()["secret"]
            await client.wait_disconnected()  # the old secret's session is cut at once
            assert (await secured.client(device["device_id"], old))[1] == NOT_AUTHORIZED
            assert (await secured.client(device["device_id"], new))[1] == 0

            secured.broker.stop()
            down = await http.post(path, headers=admin)
            assert down.status_code == 503, down.text
            assert "secret" not in down.json()
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count())
                    .select_from(DeviceCredential)
                    .where(DeviceCredential.device_uuid == device["id"])
                )
            assert count == 2  # nothing was stored for the refused rotation


async def test_the_full_sync_repairs_what_missed_updates_left(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    kept, kept_secret = await provisioned_device(sessions)
    gone, gone_secret = await provisioned_device(sessions)
    async with secure_broker(sessions, with_ingest=False) as secured:
        access = secured.access()
        gone_client, _ = await secured.client(gone.device_id, gone_secret)
        kept_client, _ = await secured.client(kept.device_id, kept_secret)
        # Changes the broker never heard of: a revocation and a secret issued while it was unreachable.
        await revoke(sessions, gone.id)
        late = await register_device(sessions)
        await issue_secret(sessions, late.id)

        report = await sync_once(sessions=sessions, broker=access, ingest=secured.ingest)
        assert report.removed == [gone.device_id]
        assert late.device_id in report.missing and kept.device_id not in report.missing
        assert report.ingest == "created"
        await gone_client.wait_disconnected()
        assert (await secured.client(gone.device_id, gone_secret))[1] == NOT_AUTHORIZED
        await secured.ingest_subscriber()

        again = await sync_once(sessions=sessions, broker=access, ingest=secured.ingest)
        assert (again.removed, again.repaired_roles, again.ingest) == ([], [], "unchanged")
        # Nothing was touched the second time, so the kept device was never disconnected.
        assert not kept_client.disconnected.is_set()
        assert await kept_client.publish(f"ownat/v1/devices/{kept.device_id}/vitals", b"{}") == 0


def device_payload() -> dict[str, str]:
    return {
        "device_id": f"t-acl-{secrets.token_hex(5)}",
        "kind": "pulse_oximeter",
        "manufacturer": "Testmed",
        "model": "Ox 2",
        "serial": secrets.token_hex(6),
    }


async def test_the_periodic_sync_keeps_going_while_the_broker_is_unreachable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unreachable = parse_mqtt_url(f"mqtt://ownat-admin:pw@127.0.0.1:{free_port()}")
    stop = asyncio.Event()
    failures: list[str] = []

    class Rounds(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            failures.append(record.getMessage())
            if len(failures) == 2:
                stop.set()

    handler = Rounds(level=logging.WARNING)
    logging.getLogger(broker_jobs.__name__).addHandler(handler)
    try:
        async with asyncio.timeout(GUARD_S):
            await broker_jobs.sync_periodically(
                sessions=sessions,
                broker=BrokerAccess(DynsecClient(unreachable, timeout_s=GUARD_S)),
                ingest=None,
                interval_s=0.01,
                stop=stop,
            )
    finally:
        logging.getLogger(broker_jobs.__name__).removeHandler(handler)
    assert all("broker sync failed" in message and "cannot reach" in message for message in failures)


async def test_a_worker_refused_its_subscription_asks_again_until_the_broker_grants_it(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    device, secret = await provisioned_device(sessions)
    shared = next(acl for acl in dynsec.ingest_acls() if acl["topic"].startswith("$share/"))
    async with secure_broker(sessions) as secured:
        access = secured.access()
        # The ingest role without its shared subscription, as on a broker not yet synced.
        await access.run(
            [
                {
                    "command": "removeRoleACL",
                    "rolename": dynsec.INGEST_ROLE,
                    "acltype": shared["acltype"],
                    "topic": shared["topic"],
                }
            ]
        )
        ingest = secured.ingest
        url = f"mqtt://{ingest.username}:{ingest.password}@127.0.0.1:{secured.broker.port}"
        engine = create_engine(settings.database_url)
        worker = IngestWorker(
            config=worker_config(settings.database_url, url),
            engine=engine,
            sessions=create_sessionmaker(engine),
            bus=InProcessBus(),
        )
        task = asyncio.create_task(worker.run())
        try:
            await wait_until(lambda: _refused_twice(worker), what="two refused subscriptions")
            assert not worker.ready.is_set()
            await access.run(dynsec.role_commands(dynsec.INGEST_ROLE, [shared]))  # what a sync repairs
            async with asyncio.timeout(GUARD_S):
                await worker.ready.wait()
            client, _ = await secured.client(device.device_id, secret)
            payload = vitals_payload(1, datetime.now(UTC))
            assert await client.publish(f"ownat/v1/devices/{device.device_id}/vitals", payload) == 0
            await wait_until(lambda: _counted(sessions, device.device_id), what="the reading stored")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()


async def _refused_twice(worker: IngestWorker) -> bool:
    return worker._consumer is not None and worker._consumer.subscribe_failures >= 2


async def _counted(sessions: async_sessionmaker[AsyncSession], device_id: str) -> bool:
    return await count_readings(sessions, [device_id]) > 0
