"""The SDC consumer against sdc11073's own provider on loopback, through to the platform.

The provider is sdc11073's `SdcProvider` serving the simulated monitor's MDIB (`edge.sdc.provider`),
found by its endpoint reference over WS-Discovery on 127.0.0.1. Behind the consumer: the real edge
gateway, Mosquitto, ingest worker, PostgreSQL and the live bus the dashboard reads.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from core.bus import create_bus
from edge.backoff import Backoff
from edge.sdc.consumer import SdcDevice, sdc_adapter
from edge.sdc.mapping import Alert, Metric, alert_event, map_metric
from edge.sdc.provider import LEAD_OFF_ALERT, SimulatedSdcMonitor
from tests.devices.edge_helpers import edge_gateway
from tests.devices.ingest_helpers import (
    count_readings,
    duplicate_keys,
    recent_start,
    register_devices,
    unique_device_id,
    wait_until,
    worker_config,
)
from tests.edge.foreign_helpers import Dashboard, through_the_platform
from tests.realtime.test_live_evaluator import monitored_patient, next_alarm, worker_with_alarms

QUICK = Backoff(base_s=0.1, cap_s=0.5)


def test_metrics_map_through_the_mdc_table_and_untrusted_values_are_not_readings() -> None:
    received = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    spo2 = Metric("m.spo2", "150456", None, "262688", 97, "Vld", received.timestamp() - 5)
    assert map_metric(spo2, received).reading == ("spo2", 97.0, "%")
    assert map_metric(spo2, received).time == received - timedelta(seconds=5)
    questionable = Metric("m.spo2", "150456", None, "262688", 97, "Qst", None)
    assert "validity Qst" in (map_metric(questionable, received).reason or "")
    mean = Metric("m.nibp.mean", "150023", None, "266016", 93, "Vld", None)
    assert map_metric(mean, received).reading == ("map", 93.0, "mm[Hg]")
    # The oximeter's pulse rate is its own metric: beside the ECG's heart rate at the same instant.
    pulse = Metric("m.pr", "149530", None, "264864", 71, "Vld", None)
    assert map_metric(pulse, received).reading == ("pr", 71.0, "/min")
    invasive = Metric("m.art.sys", "150033", None, "266016", 121, "Vld", None)
    assert map_metric(invasive, received).unknown
    foreign = Metric("x", "8867-4", "http://loinc.org", "/min", 60, "Vld", None)
    assert "not IEEE 11073-10101" in (map_metric(foreign, received).reason or "")
    odd_unit = Metric("m.hr", "147842", None, "262656", 60, "Vld", None)  # MDC_DIM_DIMLESS
    assert "unit 262656 is not known" in (map_metric(odd_unit, received).reason or "")


def test_alert_conditions_become_events_by_kind_and_priority() -> None:
    began = alert_event(Alert("ac.spo2.low", "Phy", "Hi", "196808", "SpO2 low", True))
    assert began == (
        "physiological_alert",
        "high",
        "SpO2 low (present; condition ac.spo2.low, MDC code 196808)",
    )
    ended = alert_event(Alert("ac.leadoff", "Tec", "Me", None, None, False))
    assert ended == ("technical_alert_ended", "low", "ac leadoff (ended; condition ac.leadoff)")


async def _started(monitor: SimulatedSdcMonitor) -> SimulatedSdcMonitor:
    return await asyncio.to_thread(monitor.start)


async def test_an_sdc_reading_is_stored_once_and_on_the_dashboard_with_alerts_and_refusals(
    settings, sessions, mqtt_url, tmp_path: Path
) -> None:
    device_id = unique_device_id("sdc")
    await register_devices(sessions, [device_id])
    monitor = await _started(SimulatedSdcMonitor())
    taken = (datetime.now(UTC) - timedelta(seconds=30)).replace(microsecond=0)
    # Before the consumer connects: sent as the current values once it has the MDIB.
    await asyncio.to_thread(monitor.set_values, {"hr": 72, "spo2": 97}, taken)
    adapter = sdc_adapter([SdcDevice(device_id, address=monitor.address)], backoff=QUICK)
    try:
        async with through_the_platform(settings, mqtt_url, tmp_path, adapter, device_id) as (
            gateway,
            dashboard,
        ):
            await dashboard.wait_for(
                lambda: len(dashboard.readings(device_id)) == 2, what="the first readings"
            )
            later = taken + timedelta(seconds=10)
            # SpO2 of 85 raises the monitor's own low-SpO2 alert; an invasive arterial pressure is a code
            # Ownat does not store; an SpO2 of 150 is impossible; a questionable heart rate is no reading.
            await asyncio.to_thread(monitor.set_values, {"spo2": 85, "sbp": 118, "dbp": 76, "map": 90}, later)
            await asyncio.to_thread(monitor.set_metrics, {"m.art.sys": 121}, later)
            await asyncio.to_thread(monitor.set_values, {"hr": 20}, later, validity="Qst")
            await asyncio.to_thread(monitor.set_metrics, {"m.spo2": 150}, later + timedelta(seconds=1))
            await asyncio.to_thread(monitor.set_alert, LEAD_OFF_ALERT, True)
            events = f"devices.event.{device_id}"
            await dashboard.wait_for(
                lambda: len(_shown(dashboard, device_id)) == 6 and len(dashboard.on(events)) >= 4,
                what="the second readings and the events",
            )
            async with asyncio.timeout(30):
                await gateway.counters.wait_until(lambda c: c.pending == 0)
    finally:
        await asyncio.to_thread(monitor.stop)
    assert _shown(dashboard, device_id) == {
        ("8867-4", 72.0),
        ("59408-5", 97.0),
        ("59408-5", 85.0),
        ("8480-6", 118.0),
        ("8462-4", 76.0),
        ("8478-0", 90.0),
    }
    by_code = {event["code"]: event for event in dashboard.on(f"devices.event.{device_id}")}
    assert by_code["physiological_alert"]["severity"] == "high"
    assert "SpO2 low (present" in by_code["physiological_alert"]["detail"]
    assert "ECG lead off (present" in by_code["technical_alert"]["detail"]
    assert "MDC code 150033 is not a metric Ownat stores" in by_code["unknown_metric"]["detail"]
    assert "physiologically impossible" in by_code["refused_measurement"]["detail"]
    await wait_until(lambda: _stored(sessions, device_id, 6), what="six readings stored")
    assert await duplicate_keys(sessions, [device_id]) == 0


def _shown(dashboard: Dashboard, device_id: str) -> set[tuple[str, float]]:
    # A message the edge sent again before its acknowledgement came is shown again: the dashboard
    # keeps one point per reading, as storage does.
    return set(dashboard.readings(device_id))


def _online(dashboard: Dashboard, device_id: str) -> list[bool]:
    """The device's states as they changed (a status sent again shows the same state again)."""
    changes: list[bool] = []
    for status in dashboard.on(f"devices.status.{device_id}"):
        if not changes or changes[-1] != status["online"]:
            changes.append(status["online"])
    return changes


async def test_the_consumer_survives_the_provider_going_away_and_coming_back(
    settings, sessions, mqtt_url, tmp_path: Path
) -> None:
    device_id = unique_device_id("sdc-back")
    await register_devices(sessions, [device_id])
    monitor = await _started(SimulatedSdcMonitor())
    # By endpoint reference: the restarted provider listens on another port, discovery finds it.
    device = SdcDevice(device_id, epr=monitor.epr_urn, discovery_timeout_s=1.0, renew_s=2)
    adapter = sdc_adapter([device], backoff=QUICK)
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    try:
        async with through_the_platform(settings, mqtt_url, tmp_path, adapter, device_id) as (
            _gateway,
            dashboard,
        ):
            await dashboard.wait_for(lambda: _online(dashboard, device_id) == [True], what="connected")
            await asyncio.to_thread(monitor.set_values, {"hr": 70}, start)
            await dashboard.wait_for(lambda: len(_shown(dashboard, device_id)) == 1, what="a reading")
            # Gone without a word (no SubscriptionEnd): the failed renewal tells the consumer.
            await asyncio.to_thread(lambda: monitor.stop(announce=False))
            await dashboard.wait_for(lambda: _online(dashboard, device_id) == [True, False], what="gone")
            await asyncio.to_thread(monitor.start)
            await dashboard.wait_for(
                lambda: _online(dashboard, device_id) == [True, False, True], what="back"
            )
            await asyncio.to_thread(monitor.set_values, {"hr": 75}, start + timedelta(seconds=5))
            await dashboard.wait_for(lambda: len(_shown(dashboard, device_id)) == 2, what="a reading after")
    finally:
        await asyncio.to_thread(monitor.stop)
    assert _shown(dashboard, device_id) == {("8867-4", 70.0), ("8867-4", 75.0)}
    assert adapter.links[0].connections == 2
    await wait_until(lambda: _stored(sessions, device_id, 2), what="both readings stored")


async def _stored(sessions, device_id: str, expected: int) -> bool:
    return await count_readings(sessions, [device_id]) == expected


async def test_an_sdc_monitor_s_readings_are_evaluated_for_alarms(
    settings, sessions, mqtt_url, tmp_path: Path
) -> None:
    device_id, patient_id = await monitored_patient(sessions)
    monitor = await _started(SimulatedSdcMonitor())
    adapter = sdc_adapter([SdcDevice(device_id, address=monitor.address)], backoff=QUICK)
    bus = create_bus(redis_url=None, key_prefix="")
    url = urlsplit(mqtt_url)
    try:
        async with (
            worker_with_alarms(worker_config(settings.database_url, mqtt_url), bus),
            bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
            edge_gateway(url.hostname or "127.0.0.1", url.port or 1883, tmp_path / "q.db", adapter),
        ):
            # NEWS2 9 (heart rate 135, respiration 26, SpO2 90): a high-priority alarm.
            await asyncio.to_thread(monitor.set_values, {"hr": 135, "rr": 26, "spo2": 90}, recent_start(3))
            raised = await next_alarm(alarms, "news2")
    finally:
        await asyncio.to_thread(monitor.stop)
    assert raised["change"] == "raised" and raised["alarm"]["priority"] == "high"
    assert raised["alarm"]["patient_id"] == str(patient_id)
