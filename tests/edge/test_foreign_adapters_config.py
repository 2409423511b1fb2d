"""SDC and Bluetooth devices in the edge's configuration, and `ownat edge --simulate-sdc` end to end."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from core.bus import InProcessBus
from edge.assembly import adapters, run_gateway
from edge.config import load_config
from ownat.processes import edge as command
from tests.devices.ingest_helpers import (
    count_readings,
    register_devices,
    running_worker,
    unique_name,
    wait_until,
    worker_config,
)
from tests.edge.foreign_helpers import Dashboard

CONFIG = """
[[devices]]
id = "icu-bed4"
adapter = { type = "sdc", epr = "urn:uuid:0d5c3a52-1d4e-4a3c-8f55-3f2b1c0e9a11", discovery_interface = "127.0.0.1" }

[[devices]]
id = "icu-bed5"
adapter = { type = "sdc", address = "http://10.1.2.3:6464/monitor" }

[[devices]]
id = "home-cuff-7"
adapter = { type = "bluetooth", address = "A4:C1:38:12:34:56", characteristics = ["blood_pressure"], clock_timezone = "Europe/Berlin" }
"""


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser.parse_args(argv)


def test_sdc_and_bluetooth_devices_get_one_adapter_each_kind(tmp_path: Path) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(CONFIG)
    built = adapters(load_config(path))
    assert [adapter.name for adapter in built] == ["sdc (2 providers)", "bluetooth (1 devices)"]


@pytest.mark.parametrize(
    ("adapter", "message"),
    [
        ('{ type = "sdc" }', "address or its epr"),
        ('{ type = "sdc", address = "10.1.2.3:6464" }', "should match pattern"),
        ('{ type = "bluetooth", address = "A4:C1", clock_timezone = "Mars/Olympus" }', "unknown time zone"),
        ('{ type = "bluetooth", address = "A4:C1", characteristics = ["glucose"] }', "characteristics"),
        ('{ type = "serial" }', "does not match any of the expected tags"),
    ],
)
def test_a_bad_foreign_adapter_is_refused_with_the_reason(tmp_path: Path, adapter: str, message: str) -> None:
    path = tmp_path / "edge.toml"
    path.write_text(f'[[devices]]\nid = "d"\nadapter = {adapter}\n')
    with pytest.raises(ValueError, match=message):
        load_config(path)


async def test_ownat_edge_simulate_sdc_runs_a_monitor_and_consumes_it_to_the_dashboard(
    settings, sessions, mqtt_url, tmp_path: Path
) -> None:
    prefix = unique_name("t-cmd")
    device_id = f"{prefix}-sdc-001"
    await register_devices(sessions, [device_id])
    args = parse(
        "--broker",
        mqtt_url,
        "--queue",
        str(tmp_path / "queue.db"),
        "--simulate-sdc",
        "1",
        "--device-prefix",
        prefix,
    )
    config = command._configuration(args)
    assert [(d.id, d.adapter.type) for d in config.devices] == [(device_id, "sdc")]
    bus = InProcessBus()
    dashboard = Dashboard()
    stop = asyncio.Event()
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url), bus=bus),
        bus.subscribe(patterns=[f"vitals.device.{device_id}"]) as live,
    ):
        gateway = asyncio.create_task(run_gateway(config, stop))
        try:
            async with asyncio.timeout(60):
                async for message in live:
                    dashboard.received.append(message)
                    if len({metric for metric, _ in dashboard.readings(device_id)}) >= 3:
                        break
        finally:
            stop.set()
            await gateway
    # The simulated monitor's heart rate, SpO2 and respiration rate at least, by their LOINC codes.
    assert {"8867-4", "59408-5", "9279-1"} <= {metric for metric, _ in dashboard.readings(device_id)}
    await wait_until(lambda: _some_stored(sessions, device_id), what="readings stored")


async def _some_stored(sessions, device_id: str) -> bool:
    return await count_readings(sessions, [device_id]) > 0


def test_the_demo_has_one_stable_bedside_monitor_speak_sdc(tmp_path: Path) -> None:
    from devices.simulator import SimulatedDevice
    from ownat.demo_feed import DemoFeed

    devices = [
        SimulatedDevice("ward-bed01", scenario="sepsis"),
        SimulatedDevice("ward-bed02"),
        SimulatedDevice("ccu-bed01"),
        SimulatedDevice("home-oximeter", kind="pulse_oximeter"),
    ]
    feed = DemoFeed("mqtt://127.0.0.1:1883", devices, tmp_path)
    assert [adapter.name for adapter in feed._adapters()] == ["simulator (3 devices)", "sdc (1 providers)"]
