"""The raw MQTT subscribe rate: the step's load received by a bare paho client that only counts.

`python -m bench.fanout.mqtt_rate CONFIG` is that client, in a process of its own so that its CPU is
its own: paho as `ownat ingest` runs it (`BufferedClient`, MQTT 5, QoS 1, paho's network thread),
subscribed to the devices' topic and counting the run's messages (device ids starting with CONFIG's
`prefix`) whose publish time falls in the window, with their publish-to-callback latency. Nothing is
decoded, stored or forwarded: what the client library costs before any of Ownat's work. Protocol on
stdin/stdout as the dashboard clients': `ready`, then `start [FROM, TO]` (µs), then `stop OFFERED`,
answered by one JSON line once OFFERED messages have arrived or a few seconds have passed.

`measure` runs it as a phase of its own (the load alone, no dashboards, no Ownat services), so that
neither measurement disturbs the other on a small machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.fanout import load, run
from bench.fanout.report import CpuWindow
from devices.ingest import BufferedClient

TOPIC = "ownat/v1/devices/+/vitals"
TIME_KEY = b'"time":"'
WARMUP_S = 3.0  # the publisher's first second is uneven; the broker's connection settles
DRAIN_GUARD_S = 5.0  # after the window, for the messages still on their way through the broker


@dataclass(frozen=True, slots=True)
class MqttRate:
    """One measurement: what the bare client received of what was offered in the window."""

    offered: int  # messages published in the window
    received: int  # of those, received by the bare client
    window_s: float
    p50_ms: float
    p99_ms: float
    cpu: float  # share of one core the client's process used in the window

    @property
    def received_per_s(self) -> float:
        return self.received / self.window_s

    @property
    def offered_per_s(self) -> float:
        return self.offered / self.window_s

    def as_dict(self) -> dict[str, float]:
        return {
            "offered": self.offered, "received": self.received, "window_s": self.window_s,
            "received_per_s": self.received_per_s, "offered_per_s": self.offered_per_s,
            "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "cpu": self.cpu,
        }  # fmt: skip


async def measure(options: Any, plan: Any, log_dir: Path, seconds: float) -> MqttRate:
    """The step's load for a short warm-up plus `seconds`, received by the bare client."""
    path = log_dir / "mqtt-rate.json"
    prefix = next(iter(plan.ward_of_device)).rsplit("-", 1)[0] + "-"
    path.write_text(json.dumps({"mqtt_url": options.mqtt_url, "prefix": prefix}))
    command = [sys.executable, "-m", "bench.fanout.mqtt_rate", str(path)]
    async with run.child(command, None, log_dir / "mqtt-rate.log", pipes=True) as process:
        await run.line(process, "mqtt rate client")
        now = time.time()
        window = (load.micros(now + WARMUP_S), load.micros(now + WARMUP_S + seconds))
        await run.tell([process], f"start [{window[0]}, {window[1]}]")
        cpu = CpuWindow([process.pid], window)
        watcher = asyncio.create_task(cpu.watch())
        published = await load.run(
            mqtt_url=options.mqtt_url, ward_of_device=plan.ward_of_device, scripted=[], window_us=window
        )
        cpu.finish()
        watcher.cancel()
        await run.tell([process], f"stop {published.window_messages}")
        result = json.loads(await run.line(process, "mqtt rate results", guard_s=60))
    return MqttRate(
        offered=published.window_messages, received=result["received"], window_s=seconds,
        p50_ms=result["p50_ms"], p99_ms=result["p99_ms"], cpu=(cpu.used() or [float("nan")])[0],
    )  # fmt: skip


class _Counter:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.window = (0, 0)
        self.latencies_us: list[int] = []
        self.changed = threading.Condition()

    def on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        arrived = time.time_ns() // 1000
        if not message.topic.split("/")[3].startswith(self.prefix):
            return  # another run's devices on the same broker
        published = _published_us(message.payload)
        if published is not None and self.window[0] <= published < self.window[1]:
            with self.changed:
                self.latencies_us.append(arrived - published)
                self.changed.notify()

    def drained(self, expected: int) -> list[int]:
        """The window's latencies once `expected` messages are in, or the guard has passed."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.latencies_us) >= expected, DRAIN_GUARD_S)
            return sorted(self.latencies_us)


def _published_us(payload: bytes | bytearray) -> int | None:
    """The first reading's time (the load stamps every reading of a message alike); None if there is none."""
    start = payload.find(TIME_KEY)
    end = payload.find(b'"', start + len(TIME_KEY))
    if start < 0 or end < 0:
        return None
    try:
        at = datetime.fromisoformat(payload[start + len(TIME_KEY) : end].decode().replace("Z", "+00:00"))
    except ValueError:
        return None  # not the load's message: paho's thread must not die of it
    return int(at.timestamp() * 1_000_000)


def _pick(values: list[int], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] / 1000 if values else float("nan")


def main(config: dict) -> None:
    counter = _Counter(config["prefix"])
    subscribed = threading.Event()
    parts = urlsplit(config["mqtt_url"])
    client = BufferedClient(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(TOPIC, qos=1)
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_message = counter.on_message
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        if not subscribed.wait(60):
            raise RuntimeError("the broker did not grant the subscription")
        print("ready", flush=True)
        start, end = json.loads(sys.stdin.readline().split(" ", 1)[1])
        counter.window = (start, end)
        latencies = counter.drained(int(sys.stdin.readline().split()[1]))
        result = {
            "received": len(latencies),
            "p50_ms": _pick(latencies, 0.5),
            "p99_ms": _pick(latencies, 0.99),
        }
        print(json.dumps(result), flush=True)
    finally:
        client.loop_stop()
        client.disconnect()


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        main(json.load(source))
