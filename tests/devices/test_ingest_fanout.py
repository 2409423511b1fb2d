"""The live fan-out's rounds: each device on its own channels, each ward once with all its devices."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.bus import BusMessage
from core.bus.inprocess import InProcessBus
from devices.ingest.attribution import UNATTRIBUTED, Attribution
from devices.ingest.fanout import LiveFanout
from devices.ingest.metrics import IngestMetrics

pytestmark = pytest.mark.asyncio

GUARD_S = 10.0


async def test_a_round_publishes_devices_patients_and_one_message_per_ward() -> None:
    ward_a, ward_b = uuid.uuid4(), uuid.uuid4()
    in_a = [Attribution(uuid.uuid4(), uuid.uuid4(), ward_a) for _ in range(2)]
    in_b = Attribution(uuid.uuid4(), uuid.uuid4(), ward_b)
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    bus = InProcessBus()
    fanout = LiveFanout(bus, IngestMetrics())
    async with bus.subscribe(patterns=["vitals.*"]) as live:
        # Submitted before the round starts, so that one round takes them all.
        fanout.submit_readings("mon-a1", in_a[0], [("8867-4", 71.0, "/min", at)])
        fanout.submit_readings("mon-a2", in_a[1], [("8867-4", 88.0, "/min", at)])
        fanout.submit_readings("mon-a1", in_a[0], [("8867-4", 72.0, "/min", at + timedelta(seconds=1))])
        fanout.submit_readings("mon-b", in_b, [("59408-5", 97.0, "%", at)])
        fanout.submit_readings("loose", UNATTRIBUTED, [("8867-4", 60.0, "/min", at)])
        publishing = asyncio.create_task(fanout.run())
        received: list[BusMessage] = []
        async with asyncio.timeout(GUARD_S):
            async for message in live:
                received.append(message)
                if len(received) == 4 + 3 + 2:  # devices, patients, wards
                    break
        publishing.cancel()
    by_channel = {m.channel: m.data for m in received}
    assert len(by_channel) == len(received)
    assert [r["value"] for r in by_channel["vitals.device.mon-a1"]["readings"]] == [71.0, 72.0]
    assert by_channel[f"vitals.patient.{in_b.patient_id}"]["device_id"] == "mon-b"
    assert "vitals.patient.None" not in by_channel
    ward_message = by_channel[f"vitals.ward.{ward_a}"]
    assert ward_message["ward_id"] == str(ward_a)
    assert [(d["device_id"], len(d["readings"])) for d in ward_message["devices"]] == [
        ("mon-a1", 2),
        ("mon-a2", 1),
    ]
    assert ward_message["devices"][1] == by_channel["vitals.device.mon-a2"]
    assert [d["device_id"] for d in by_channel[f"vitals.ward.{ward_b}"]["devices"]] == ["mon-b"]
