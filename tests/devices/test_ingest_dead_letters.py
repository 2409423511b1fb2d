"""Refused messages land in dead letters with their reason; the valid messages around them are all stored."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from devices.ingest.models import IngestDeadLetter
from devices.protocol import MAX_PAYLOAD_BYTES
from tests.devices.ingest_helpers import (
    METRICS,
    Publisher,
    count_readings,
    iso,
    recent_start,
    register_devices,
    running_worker,
    unique_device_id,
    vitals_payload,
    wait_until,
    worker_config,
)


async def test_each_bad_message_is_dead_lettered_with_its_reason(settings, sessions, mqtt_url) -> None:
    device = unique_device_id("dl")
    stranger = unique_device_id("stranger")
    await register_devices(sessions, [device])
    start = recent_start()
    topic = f"ownat/v1/devices/{device}/vitals"
    reading = {"metric": "hr", "value": 70, "unit": "/min", "time": iso(start)}
    bad = {
        "malformed": (topic, b'{"v": 1, "seq": 1, "readings": [}'),
        "oversize": (topic, b'{"v": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'),
        "invalid": (
            topic,
            json.dumps({"v": 1, "seq": "two", "readings": [{**reading, "value": "high"}]}).encode(),
        ),
        "impossible-value": (
            topic,
            json.dumps({"v": 1, "seq": 3, "readings": [{**reading, "value": 900}]}).encode(),
        ),
        "future-time": (
            topic,
            json.dumps(
                {"v": 1, "seq": 4, "readings": [{**reading, "time": iso(start + timedelta(days=2))}]}
            ).encode(),
        ),
        "unknown-device": (f"ownat/v1/devices/{stranger}/vitals", vitals_payload(5, start)),
        "bad-topic": (f"ownat/v1/devices/-{device}/vitals", vitals_payload(6, start)),
    }
    valid = [
        (topic, vitals_payload(seq, start + timedelta(seconds=seq))) for seq in range(10, 10 + 2 * len(bad))
    ]
    # Valid and refused messages alternate, so a refusal that stopped the worker would lose the next one.
    interleaved = [item for pair in zip(valid, [*bad.values(), *bad.values()], strict=False) for item in pair]
    async with (
        running_worker(worker_config(settings.database_url, mqtt_url)) as worker,
        Publisher(mqtt_url) as publisher,
    ):
        await publisher.publish_all(interleaved)
        await wait_until(
            lambda: _at_least(sessions, device, len(valid) * len(METRICS)), what="every valid reading stored"
        )
        await wait_until(
            lambda: _letters_for(sessions, [device, stranger], len(bad)), what="the dead letters"
        )
        assert worker.ready.is_set()
    async with sessions() as session:
        letters = (
            await session.scalars(
                select(IngestDeadLetter).where(
                    (IngestDeadLetter.device_id.in_([device, stranger]))
                    | (IngestDeadLetter.topic == bad["bad-topic"][0])
                )
            )
        ).all()
    by_code = {letter.reason_code: letter for letter in letters}
    assert set(by_code) == set(bad)
    # The same message sent twice is one dead letter, not two.
    assert len(letters) == len(bad)
    for code, (sent_topic, payload) in bad.items():
        letter = by_code[code]
        assert letter.topic == sent_topic and letter.payload_size == len(payload) and letter.resolved is False
        assert payload.startswith(letter.payload)
    assert by_code["bad-topic"].device_id is None and by_code["unknown-device"].device_id == stranger
    assert "exceeds the limit" in by_code["oversize"].reason
    assert "physiologically impossible" in by_code["impossible-value"].reason
    assert "seq" in by_code["invalid"].reason and "not registered" in by_code["unknown-device"].reason
    assert await count_readings(sessions, [device]) == len(valid) * len(METRICS)
    assert worker.metrics.dead_letters.labels("malformed")._value.get() == 2


async def _at_least(sessions, device: str, expected: int) -> bool:
    return await count_readings(sessions, [device]) >= expected


async def _letters_for(sessions, device_ids: list[str], expected: int) -> bool:
    async with sessions() as session:
        found = (
            await session.scalars(
                select(IngestDeadLetter.id).where(IngestDeadLetter.device_id.in_(device_ids))
            )
        ).all()
    # The bad-topic letter names no device; the others do.
    return len(found) >= expected - 1
