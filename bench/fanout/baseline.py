"""`python -m bench.fanout.baseline CONFIG PORT`: the baseline, a bare `websockets` broadcast server.

It speaks just enough of the hub's protocol for the same clients (any `auth` is answered `ready`, a
ward `subscribe` with an empty snapshot) and subscribes to the devices' MQTT topic itself. Each
device message is decoded once and its readings join its ward's pending frame, coalesced exactly as
the hub's live feeds do (`realtime.hub.feeds`): the first frame after a quiet spell goes on the next
loop turn, then at most one per `coalesce_interval_s` (the hub's own setting, in CONFIG). The frame
is the hub's ward `vitals` frame (the readings with their device, patient and bed, LOINC codes, the
time as the ingest worker formats it), encoded once by msgspec and broadcast to the ward's clients.
No database, no Redis, no access checks, no per-client queues: the hub's ceiling without Ownat's
logic. With `coalesce_interval_s` null, each device message goes out at once as a frame of its own
(the older, per-reading baseline).

CONFIG (JSON): `ward_of_device`, `patient_of_device`, `bed_of_device`, `mqtt_url`,
`coalesce_interval_s`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import defaultdict
from urllib.parse import urlsplit

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from websockets.asyncio.server import ServerConnection, broadcast, serve

from devices.protocol import metric_spec

TOPIC = "ownat/v1/devices/+/vitals"


class _DeviceReading(msgspec.Struct, gc=False):
    metric: str
    value: float
    unit: str
    time: str


class _DeviceMessage(msgspec.Struct, gc=False):
    readings: list[_DeviceReading]


class LiveReading(msgspec.Struct, gc=False):
    """A reading as the hub's `vitals` frame carries it (`realtime.hub.feeds.LiveReading`)."""

    device_id: str
    patient_id: str | None
    bed_id: str | None
    metric: str
    value: float
    unit: str
    time: str


class Frame(msgspec.Struct, gc=False):
    type: str
    scope: str
    id: str
    readings: list[LiveReading]


_DECODER = msgspec.json.Decoder(_DeviceMessage)
_ENCODER = msgspec.json.Encoder()


class Broadcaster:
    def __init__(self, config: dict) -> None:
        self.ward_of_device: dict[str, str] = config["ward_of_device"]
        self.patient_of_device: dict[str, str] = config.get("patient_of_device", {})
        self.bed_of_device: dict[str, str] = config.get("bed_of_device", {})
        self.interval_s: float | None = config.get("coalesce_interval_s")
        self.watchers: defaultdict[str, set[ServerConnection]] = defaultdict(set)
        self.pending: defaultdict[str, list[LiveReading]] = defaultdict(list)
        self.last_sent: dict[str, float] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # Device aliases to LOINC codes, as the ingest worker stores and publishes them.
        self.codes: dict[str, str] = {}

    async def handle(self, connection: ServerConnection) -> None:
        ward = None
        try:
            async for raw in connection:
                message = json.loads(raw)
                if message["type"] == "auth":
                    await connection.send(json.dumps({"type": "ready"}))
                elif message["type"] == "subscribe":
                    ward = message["id"]
                    await connection.send(
                        json.dumps({"type": "snapshot", "scope": "ward", "id": ward, "beds": []})
                    )
                    self.watchers[ward].add(connection)
        finally:
            if ward is not None:
                self.watchers[ward].discard(connection)

    def deliver(self, topic: str, payload: bytes | bytearray) -> None:
        device = topic.split("/")[3]
        ward = self.ward_of_device.get(device)
        if ward is None:
            return
        patient, bed = self.patient_of_device.get(device), self.bed_of_device.get(device)
        readings = [
            LiveReading(device, patient, bed, self._code(r.metric), r.value, r.unit, _iso(r.time))
            for r in _DECODER.decode(payload).readings
        ]
        if self.interval_s is None:
            self._broadcast(ward, readings)
            return
        self.pending[ward].extend(readings)
        if ward not in self.timers:
            loop = asyncio.get_running_loop()
            due_in_s = self.last_sent.get(ward, float("-inf")) + self.interval_s - loop.time()
            self.timers[ward] = loop.call_later(max(0.0, due_in_s), self._send, ward)

    def _send(self, ward: str) -> None:
        del self.timers[ward]
        readings = self.pending.pop(ward, [])
        if readings:
            self.last_sent[ward] = asyncio.get_running_loop().time()
            self._broadcast(ward, readings)

    def _broadcast(self, ward: str, readings: list[LiveReading]) -> None:
        text = _ENCODER.encode(Frame("vitals", "ward", ward, readings)).decode()
        broadcast(self.watchers[ward], text)

    def _code(self, alias: str) -> str:
        code = self.codes.get(alias)
        if code is None:
            code = self.codes[alias] = metric_spec(alias).code
        return code


def _iso(device_time: str) -> str:
    # The ingest worker parses the device's time and publishes `datetime.isoformat()`: "+00:00", not "Z".
    return device_time[:-1] + "+00:00" if device_time.endswith("Z") else device_time


async def main(config: dict, port: int) -> None:
    loop = asyncio.get_running_loop()
    broadcaster = Broadcaster(config)
    subscribed = asyncio.Event()
    parts = urlsplit(config["mqtt_url"])
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(TOPIC, qos=0)
    client.on_subscribe = lambda *_args: loop.call_soon_threadsafe(subscribed.set)
    client.on_message = lambda _c, _u, m: loop.call_soon_threadsafe(broadcaster.deliver, m.topic, m.payload)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        # No keepalive pings, as the clients send none: a loaded machine must not close sockets.
        async with serve(broadcaster.handle, "127.0.0.1", port, max_size=None, ping_interval=None):
            await subscribed.wait()
            print("ready", flush=True)
            await asyncio.Event().wait()
    finally:
        client.loop_stop()


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        asyncio.run(main(json.load(source), int(sys.argv[2])))
