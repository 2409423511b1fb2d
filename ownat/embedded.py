"""The embedded default: the whole platform in one process with no servers installed.

SQLite under the data directory, the in-process bus, an embedded MQTT broker on its own port
(never 1883, which a real Mosquitto may hold) and the demo hospital, loaded on first start. Once the
API is up, the ingest pipeline starts in the same event loop: the ingest worker (MQTT 3.1.1 to the
embedded broker, writing to SQLite, publishing on the API's own in-process bus) and the demo
hospital's monitors, simulated, publishing into the broker, so that live data shows with nothing
installed. Alarms run as in production: the live evaluator with each batch (the ingest worker's batch
observer; on the main event loop here, the load being light) and the periodic checks (silent devices, escalation) every few
seconds; bed 3 of Ward 4B deteriorates, so a NEWS2 alarm shows within a minute of starting. The
worker's loop and the audit sequencer run as `ownat worker` runs them in production (what it does:
see `ownat.processes.worker`), with the same periodic scheduler (`core.periodic`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import dev_mail, dev_smart_app
from api.app import create_app
from billing.payments import GatewayServer
from clinical.lab import MllpServer
from core.audit import AuditKeyring, run_sequencer
from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings
from devices.broker import EmbeddedBroker
from devices.ingest import IngestConfig, IngestWorker
from devices.pcd import open_receiver
from devices.simulator import SimulatedDevice, paced, simulate
from edge.pcd_mllp import PcdMllpSender
from notifications import NotificationSettings, NotificationWorker, load_notification_settings
from ownat import migrate
from ownat.demo import demo_accounts_text, demo_devices, seed_demo_data, simulated_devices
from ownat.demo.monitors import PCD_FED, bed_of_device
from ownat.demo.smart_app import demo_origins, ensure_demo_smart_app
from ownat.demo.video_visit import ensure_open_video_visit, keep_a_video_visit_open
from ownat.demo_feed import DemoFeed
from ownat.uvicorn_config import uvicorn_config
from ownat.worker_jobs import periodic_jobs
from realtime.alarms import LiveAlarmEvaluator, LiveTuning, policy_from_settings, run_periodic_checks_forever

log = logging.getLogger(__name__)

# One worker, so a fixed client id: a restart of `ownat dev` finds nothing of the old session (the
# embedded broker keeps sessions in memory), and readings published meanwhile were never sent.
EMBEDDED_CLIENT_ID = "ownat-dev-ingest"


async def run_embedded(settings: Settings, *, host: str, port: int) -> None:
    """Migrates, seeds on first start, starts the broker, API and ingest pipeline; serves until interrupted."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # FHIR rest-hooks may post to loopback here: a newcomer's receiver runs on their own machine.
    settings = settings.model_copy(update={"fhir_hooks_allow_private": True})
    await migrate.upgrade_async(settings.effective_database_url)
    await seed_demo_data(settings)
    await ensure_open_video_visit(settings)
    if settings.environment == "development":
        await _ensure_demo_smart_app(settings, host=host, port=port)
    async with AsyncExitStack() as stack:
        if settings.mqtt_url is None:
            broker = EmbeddedBroker(host=settings.embedded_mqtt_host, port=settings.embedded_mqtt_port)
            await stack.enter_async_context(broker)
        test_gateway = settings.payment_gateway_url is None
        if test_gateway:
            # Card payments work in the demo: the test gateway, on loopback, posts to our webhook.
            local = "127.0.0.1" if host in ("0.0.0.0", "::", "localhost") else host  # noqa: S104
            webhook = f"http://{local}:{port}/api/v1/billing/gateway/webhook"
            gateway = await stack.enter_async_context(GatewayServer(webhook_url=webhook))
            settings = gateway.configure(settings)
        app = create_app(settings)
        server = uvicorn.Server(
            uvicorn_config(app, host=host, port=port, websocket_compression=settings.websocket_compression)
        )
        pipeline = asyncio.create_task(_run_pipeline_when_started(server, app, settings))
        pipeline.add_done_callback(_report_failure)
        notify = embedded_notification_settings(settings, host=host, port=port)
        if notify.dev_mailbox:
            app.include_router(dev_mail.router)
        if settings.environment == "development":
            app.include_router(dev_smart_app.router)
        banner = asyncio.create_task(
            _announce_when_started(
                server, settings, host, port, mailbox=notify.dev_mailbox, test_gateway=test_gateway
            )
        )
        notifications = asyncio.create_task(_notify_when_started(server, app, notify))
        sealing = asyncio.create_task(_seal_audit_when_started(server, app, settings))
        video_visit = asyncio.create_task(_keep_video_visit_when_started(server, app, settings))
        try:
            await server.serve()
        finally:
            sealing.cancel()
            notifications.cancel()
            video_visit.cancel()
            banner.cancel()
            pipeline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pipeline


async def _ensure_demo_smart_app(settings: Settings, *, host: str, port: int) -> None:
    engine = create_engine(settings.effective_database_url)
    try:
        sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
        async with transaction(sessions) as session:
            await ensure_demo_smart_app(session, origins=demo_origins(host, port))
    finally:
        await engine.dispose()


def embedded_notification_settings(settings: Settings, *, host: str, port: int) -> NotificationSettings:
    """The environment's notification settings, with what `ownat dev` knows better: its own address for
    links (unless OWNAT_PUBLIC_URL is set) and, in development without SMTP, the development mailbox."""
    loaded = load_notification_settings()
    overrides: dict[str, Any] = {}
    if "public_url" not in loaded.model_fields_set:
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
        overrides["public_url"] = f"http://{shown_host}:{port}"
    if settings.environment == "development" and not loaded.smtp_host:
        overrides["dev_mailbox"] = True
    return loaded.model_copy(update=overrides)


def _report_failure(task: asyncio.Task[None]) -> None:
    # The API keeps serving without live data; the failure must still be seen, not swallowed.
    if not task.cancelled() and task.exception() is not None:
        log.error("the embedded ingest pipeline stopped", exc_info=task.exception())


async def _wait_started(server: uvicorn.Server) -> None:
    # uvicorn offers a flag, not an event, for "listening"; a short poll is the only way to see it.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def _keep_video_visit_when_started(server: uvicorn.Server, app: FastAPI, settings: Settings) -> None:
    await _wait_started(server)
    await keep_a_video_visit_open(app.state.resources.sessions, settings)


async def _run_pipeline_when_started(server: uvicorn.Server, app: FastAPI, settings: Settings) -> None:
    """The ingest worker and the simulated devices, once the API (and so its bus) is up."""
    await _wait_started(server)
    broker_url = settings.effective_mqtt_url
    database_url = settings.effective_database_url
    # The worker's own engine on the same SQLite file: it outlives the API's during shutdown.
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine, audit_keys=AuditKeyring.from_settings(settings))
        async with transaction(sessions) as session:
            # The demo hospital's registered monitors; one patient deteriorates soon after start.
            devices = simulated_devices(
                await demo_devices(session=session),
                onset_s=settings.demo_onset_s,
                time_scale=settings.demo_time_scale,
            )
        resources = app.state.resources
        evaluator = LiveAlarmEvaluator(
            sessions=sessions,
            bus=resources.bus,
            tuning=LiveTuning(low_battery_pct=settings.alarm_low_battery_pct, tick_s=settings.alarm_tick_s),
            policy=policy_from_settings(settings),
        )
        worker = IngestWorker(
            config=IngestConfig(
                database_url=database_url,
                broker_url=broker_url,
                client_id=EMBEDDED_CLIENT_ID,
                mqtt_protocol="5" if settings.mqtt_url else "3.1.1",
                # Seconds of a few monitors per batch; rollups and bindings as in production.
                flush_interval_s=0.2,
            ),
            engine=engine,
            sessions=sessions,
            bus=resources.bus,
            observer=evaluator,
        )
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(worker.run(), name="embedded-ingest")
            await worker.ready.wait()
            # HL7 over MLLP (lab results, and IHE PCD-01 into this same worker), and over HTTP.
            receiver = open_receiver(sessions=sessions, inlet=worker)
            app.state.pcd_receiver = receiver
            mllp = MllpServer(sessions=sessions, port=settings.embedded_mllp_port, devices=receiver)
            await mllp.start()
            tasks.create_task(_stop_when_cancelled(mllp), name="embedded-mllp")
            over_mqtt = [d for d in devices if d.device_id not in PCD_FED]
            over_pcd = [d for d in devices if d.device_id in PCD_FED]
            tasks.create_task(
                DemoFeed(broker_url, over_mqtt, settings.data_dir).run(), name="embedded-demo-feed"
            )
            if over_pcd:
                tasks.create_task(
                    _feed_over_pcd(over_pcd, mllp.port, await _beds_of(sessions, over_pcd)),
                    name="embedded-pcd-feed",
                )
            # After the feed: checked before the monitors speak, every one of them would be "silent".
            tasks.create_task(run_periodic_checks_forever(resources), name="embedded-alarm-checks")
    finally:
        await engine.dispose()


async def _stop_when_cancelled(server: MllpServer) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop(grace_s=1.0)


async def _beds_of(
    sessions: async_sessionmaker[AsyncSession], devices: list[SimulatedDevice]
) -> dict[str, tuple[str, str, str]]:
    async with transaction(sessions) as session:
        return {d.device_id: await bed_of_device(session, d.device_id) for d in devices}


async def _feed_over_pcd(
    devices: list[SimulatedDevice], port: int, beds: dict[str, tuple[str, str, str]]
) -> None:
    """The demo's PCD-01 bed: its monitor's readings as a monitor gateway sends them, over MLLP."""
    sender = PcdMllpSender("127.0.0.1", port, beds=beds)
    await sender.run(paced(simulate(devices, utc_now(), 1.0, seed=7)))


async def _notify_when_started(server: uvicorn.Server, app: FastAPI, settings: NotificationSettings) -> None:
    """`ownat worker`'s loop (see `ownat.processes.worker`) on the API's own resources, until cancelled.

    SQLite has no SKIP LOCKED and one writer; one loop here, so nothing is claimed twice. The alarm
    checks run apart (`_run_pipeline_when_started`), once the demo monitors have started.
    """
    await _wait_started(server)
    worker = NotificationWorker(
        resources=app.state.resources, settings=settings, jobs=periodic_jobs(alarm_checks=False)
    )
    try:
        await worker.run(asyncio.Event())
    except Exception:
        # The API keeps serving without notifications; the failure must still be seen.
        log.exception("the embedded notification worker stopped")
    finally:
        with contextlib.suppress(Exception):
            await worker.close()


async def _seal_audit_when_started(server: uvicorn.Server, app: FastAPI, settings: Settings) -> None:
    """The audit sequencer, as `ownat worker` runs it, on the API's own sessions."""
    await _wait_started(server)
    resources = app.state.resources
    await run_sequencer(
        sessions=resources.sessions,
        keys=resources.audit_keys,
        interval_s=settings.audit_seal_interval_s,
        stop=asyncio.Event(),
    )


async def _announce_when_started(
    server: uvicorn.Server, settings: Settings, host: str, port: int, *, mailbox: bool, test_gateway: bool
) -> None:
    await _wait_started(server)
    shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
    mqtt = settings.effective_mqtt_url
    mail = f"http://{shown_host}:{port}/dev/mail/ (the emails it sends: sign-up, password resets)"
    print(
        f"\nOwnat is running (embedded mode, data in {settings.data_dir.resolve()})\n"
        f"  web and API:  http://{shown_host}:{port}/\n"
        f"  API docs:     http://{shown_host}:{port}/api/v1/docs\n"
        + (f"  mailbox:      {mail}\n" if mailbox else "")
        + f"  MQTT broker:  {mqtt}\n"
        "  live vitals:  simulated monitors on Ward 4B and the CCU (bed 3 of Ward 4B deteriorates),\n"
        "                and the demo patient's home pulse oximeter, through an edge gateway that keeps\n"
        "                each reading until ingest acknowledges it (see README, Reliability)\n"
        f"  HL7 (MLLP):   127.0.0.1:{settings.embedded_mllp_port}, lab results and IHE PCD-01 device observations;\n"
        "                CCU bed 1's monitor speaks PCD-01 there (see README, Connecting devices)\n"
        f"  FHIR apps:    http://{shown_host}:{port}/fhir/R4/ subscriptions (live vitals, alarms,\n"
        "                appointments, lab results; websocket or rest-hook) and $export (as admin);\n"
        "                see README, FHIR\n"
        "  video visit:  open now: sign in as the patient at /consult/ and as the clinician at\n"
        "                /consult/clinician/ (two browser windows) to try a call\n"
        f"  SMART app:    http://{shown_host}:{port}/dev/smart-app/ (a demo app: launch it, or open it\n"
        "                from a patient's chart with 'Open Ownat demo app')\n"
        f"{_payments_line(settings, test_gateway)}\n" + demo_accounts_text(),
        flush=True,
    )


def _payments_line(settings: Settings, test_gateway: bool) -> str:
    if test_gateway:
        return (
            f"  payments:     the test gateway at {settings.payment_gateway_url} (development only, nothing is\n"
            "                charged): pay the demo patient's bill with 4242 4242 4242 4242, any future date\n"
        )
    if settings.payment_gateway_url is None:
        return "  payments:     card payments are off\n"
    return f"  payments:     card payments through {settings.payment_gateway_url}\n"
