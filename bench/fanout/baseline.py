"""`python -m bench.fanout.baseline CONFIG PORT`: the baseline, a bare `websockets` broadcast server.

It speaks just enough of the hub's protocol for the same clients (any `auth` is answered `ready`, a
ward `subscribe` with an empty snapshot) and subscribes to the devices' MQTT topic itself: each
device message is decoded once, re-encoded once as a ward `vitals` message and broadcast at once to
the ward's clients. No database, no Redis, no access checks, no coalescing: the floor for delivering
the same readings to the same clients. CONFIG (JSON) holds `ward_of_device` and `mqtt_url`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import defaultdict
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from websockets.asyncio.server import ServerConnection, broadcast, serve

TOPIC = "ownat/v1/devices/+/vitals"


class Broadcaster:
    def __init__(self, ward_of_device: dict[str, str]) -> None:
        self.ward_of_device = ward_of_device
        self.watchers: defaultdict[str, set[ServerConnection]] = defaultdict(set)

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

    def deliver(self, topic: str, payload: bytes) -> None:
        device = topic.split("/")[3]
        ward = self.ward_of_device.get(device)
        if ward is None:
            return
        readings = [{"device_id": device, **r} for r in json.loads(payload)["readings"]]
        text = json.dumps(
            {"type": "vitals", "scope": "ward", "id": ward, "readings": readings}, separators=(",", ":")
        )
        broadcast(self.watchers[ward], text)


async def main(config: dict, port: int) -> None:
    loop = asyncio.get_running_loop()
    broadcaster = Broadcaster(config["ward_of_device"])
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
