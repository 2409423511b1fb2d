"""The devices: pre-encoded bedside-monitor messages from the simulator, published at 1 Hz each.

Each device sends one message a second (its phase spread over the second), holding that second's
numerics from a pool of simulated stable patients; the reading time is the moment of publishing, so
a client can measure publish-to-arrival from the reading itself. Payloads are encoded once as
templates; publishing only fills in the sequence number and the time. Scripted devices switch to a
heart rate above their patient's limit at `cross_us`, a few seconds into the measuring window.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.ingest.run import Publisher
from devices.protocol import metric_spec
from devices.simulator import SimulatedDevice, simulate

POOL_DEVICES = 40
POOL_SECONDS = 600  # a course wraps round every ten minutes
CROSSING_HR = 150.0
CALM_HR = (50.0, 120.0)


def _template(readings: list[tuple[str, float, str]]) -> tuple[bytes, int]:
    """`{"v":1,"seq":%d,"readings":[...]}` with a `%s` for each reading's time."""
    # Units such as "%" are escaped for the bytes formatting that fills in the times.
    parts = [
        f'{{"metric":"{a}","value":{v},"unit":"{u.replace("%", "%%")}","time":"%s"}}' for a, v, u in readings
    ]
    return f'{{"v":1,"seq":%d,"readings":[{",".join(parts)}]}}'.encode(), len(parts)


def _crossing(readings: list[tuple[str, float, str]]) -> list[tuple[str, float, str]]:
    others = [r for r in readings if r[0] != "hr"]
    return [("hr", CROSSING_HR, "/min"), *others]


def _calm(readings: list[tuple[str, float, str]]) -> list[tuple[str, float, str]]:
    # A scripted device's heart rate before its crossing: the simulator's artefacts (a spike, a lead
    # off) would otherwise raise its alarm early, and the crossing would find it already open.
    return [(a, min(max(v, CALM_HR[0]), CALM_HR[1]) if a == "hr" else v, u) for a, v, u in readings]


Templates = list[tuple[bytes, int]]


def pool() -> list[tuple[Templates, Templates, Templates]]:
    """Per simulated patient, normal, calm and crossing message templates for each second of its course.

    A device follows one patient's course, so its values change as a real patient's do: values
    jumping between patients would change NEWS2 bands every second and make every patient a full
    alarm evaluation, which no ward sees.
    """
    start = datetime.now(UTC) - timedelta(days=1)
    devices = [SimulatedDevice(f"pool-{i}") for i in range(POOL_DEVICES)]
    courses: dict[str, list[list[tuple[str, float, str]]]] = {d.device_id: [] for d in devices}
    for device, message in simulate(devices, start=start, until=start + timedelta(seconds=POOL_SECONDS)):
        readings = [
            (metric_spec(r.metric).alias, r.value, metric_spec(r.metric).unit) for r in message.readings
        ]
        if readings:  # a second whose every value was lost sends nothing
            courses[device].append(readings)
    return [
        (
            [_template(s) for s in course],
            [_template(_calm(s)) for s in course],
            [_template(_crossing(s)) for s in course],
        )
        for course in courses.values()
        if course
    ]


def micros(at: float) -> int:
    return int(at * 1_000_000)


def stamp(at_us: int) -> bytes:
    seconds, micro = divmod(at_us, 1_000_000)
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micro:06d}Z").encode()


@dataclass(slots=True)
class Published:
    window_us: tuple[int, int] = (0, 0)
    messages: int = 0
    readings: int = 0
    window_messages: int = 0  # messages published in the window
    by_ward: Counter[str] = field(default_factory=Counter)  # readings in the window, per ward
    crossed_us: dict[str, int] = field(default_factory=dict)  # device -> first crossing publish time
    behind_s: float = 0.0  # the worst lag of the publisher behind its 1 Hz schedule


async def run(
    *, mqtt_url: str, ward_of_device: dict[str, str], scripted: list[str], window_us: tuple[int, int]
) -> Published:
    """Publishes every device once a second until the window's end; crossings 5 s into the window."""
    courses = pool()
    devices = list(ward_of_device)
    # Device i follows patient i of the pool from its own point in the course.
    cursor = {d: (i, (i * 7919) % len(courses[i % len(courses)][0])) for i, d in enumerate(devices)}
    scripted_set = set(scripted)
    out = Published()
    loop = asyncio.get_running_loop()
    started = loop.time()
    out.window_us = window_us
    duration_s = (window_us[1] - micros(time.time())) / 1e6
    cross_us = window_us[0] + min(5_000_000, (window_us[1] - window_us[0]) // 3)
    per_s, sent = len(devices), 0
    async with Publisher(mqtt_url) as publisher:
        while (elapsed := loop.time() - started) < duration_s:
            due = int(elapsed * per_s)
            out.behind_s = max(out.behind_s, (due - sent) / per_s)
            while sent < due:
                device = devices[sent % per_s]
                second = sent // per_s
                now_us = micros(time.time())
                crossed = device in scripted_set and now_us >= cross_us
                course, offset = cursor[device]
                variant = 2 if crossed else 1 if device in scripted_set else 0
                templates = courses[course % len(courses)][variant]
                template, count = templates[(offset + second) % len(templates)]
                at = stamp(now_us)
                publisher.publish(device, template % (second, *([at] * count)))
                if crossed:
                    out.crossed_us.setdefault(device, now_us)
                if out.window_us[0] <= now_us < out.window_us[1]:
                    out.by_ward[ward_of_device[device]] += count
                    out.window_messages += 1
                out.messages += 1
                out.readings += count
                sent += 1
            await asyncio.sleep(0.004)  # pacing: the next devices fall due within milliseconds
    return out
