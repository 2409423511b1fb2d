"""Websocket subscribers of ward vital signs, timed against the moment each reading came off the bus.

The ingest worker publishes a reading on the bus right after its batch commits, so the bus arrival
(taken here, in the same process as the subscribers) stands for the commit; a notification's
latency is its websocket arrival minus that. Both sides name a reading by the id of its
Observation (`reading_id`: time, metric, device), which is what a notification's focus carries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from websockets.asyncio.client import ClientConnection, connect

from clinical.fhir import reading_id
from core.bus import WardReadings, create_bus, decode_payload, vitals_ward
from realtime.subscriptions import FILTER_CRITERIA, PAYLOAD_CONTENT, VITAL_SIGNS

GUARD_S = 60.0
# How long after the load the subscribers may still catch up before a reading counts as never notified.
SETTLE_S = 10.0


def _now_us() -> int:
    return time.time_ns() // 1000


def _body(ward: str) -> dict[str, object]:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "bench",
        "criteria": VITAL_SIGNS.url,
        "_criteria": {"extension": [{"url": FILTER_CRITERIA, "valueString": f"Observation?ward={ward}"}]},
        "channel": {
            "type": "websocket",
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": "id-only"}]},
        },
    }


@dataclass(slots=True)
class SubscriptionProbe:
    api_base: str
    token: str
    wards: list[str]
    redis_url: str
    prefix: str
    window_us: tuple[int, int] = (0, 0)
    committed_us: dict[str, int] = field(default_factory=dict)  # reading id -> bus arrival
    published_us: dict[str, int] = field(default_factory=dict)  # reading id -> device publish time
    from_commit_ms: list[float] = field(default_factory=list)
    from_publish_ms: list[float] = field(default_factory=list)
    early: dict[str, int] = field(default_factory=dict)  # notified before the tap saw the reading
    notified: set[str] = field(default_factory=set)
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    _sockets: list[ClientConnection] = field(default_factory=list)
    _notified_more: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self) -> None:
        """Creates one ward subscription per ward and binds a websocket to each (handshake received)."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/fhir+json"}
        async with httpx.AsyncClient(base_url=self.api_base, timeout=GUARD_S) as http:
            for ward in self.wards:
                created = await http.post("/fhir/R4/Subscription", json=_body(ward), headers=headers)
                created.raise_for_status()
                subscription_id = created.json()["id"]
                answer = await http.post(
                    f"/fhir/R4/Subscription/{subscription_id}/$get-ws-binding-token", headers=headers
                )
                answer.raise_for_status()
                parameters = {p["name"]: p for p in answer.json()["parameter"]}
                socket = await connect(
                    parameters["websocket-url"]["valueUrl"], open_timeout=GUARD_S, max_size=None
                )
                await socket.send(f"bind-with-token {parameters['token']['valueString']}")
                handshake = json.loads(await asyncio.wait_for(socket.recv(), GUARD_S))
                assert handshake["entry"][0]["resource"]["type"] == "handshake", handshake
                self._sockets.append(socket)

    async def run(self) -> None:
        """Times readings off the bus and notifications off the sockets until cancelled."""
        readers = [asyncio.create_task(self._read(socket)) for socket in self._sockets]
        try:
            await self._tap()
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            for socket in self._sockets:
                with contextlib.suppress(Exception):
                    await socket.close()

    def _inside(self, published: int) -> bool:
        return self.window_us[0] <= published < self.window_us[1]

    async def _tap(self) -> None:
        bus = create_bus(redis_url=self.redis_url, key_prefix=self.prefix)
        try:
            async with bus.subscribe(channels=[vitals_ward(ward) for ward in self.wards]) as live:
                self.listening.set()
                async for message in live:
                    arrived = _now_us()
                    for device in decode_payload(WardReadings, message.payload).devices:
                        for reading in device.readings:
                            at = datetime.fromisoformat(reading.time)
                            published = int(at.timestamp() * 1_000_000)
                            if not self._inside(published):
                                continue
                            key = reading_id(at, reading.metric, device.device_id)
                            self.committed_us[key], self.published_us[key] = arrived, published
                            if key in self.early:  # the notification won the race to this process
                                self._count(key, self.early.pop(key))
        finally:
            with contextlib.suppress(Exception):
                await bus.close()

    async def _read(self, socket: ClientConnection) -> None:
        async for frame in socket:
            arrived = _now_us()
            status = json.loads(frame)["entry"][0]["resource"]
            for event in status.get("notificationEvent", ()):
                key = event["focus"]["reference"].removeprefix("Observation/")
                if key in self.committed_us:
                    self._count(key, arrived)
                else:
                    self.early[key] = arrived

    def _count(self, key: str, arrived: int) -> None:
        if key in self.notified:
            return
        self.notified.add(key)
        self._notified_more.set()
        self.from_commit_ms.append((arrived - self.committed_us[key]) / 1000)
        self.from_publish_ms.append((arrived - self.published_us[key]) / 1000)

    async def settled(self, grace_s: float) -> None:
        """Returns once every reading of the window seen on the bus has been notified, or after
        `grace_s`: the hub's clients may finish first, and a late notification is not a lost one."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s):
                while self.missing():
                    self._notified_more.clear()
                    await self._notified_more.wait()

    def missing(self) -> int:
        """Readings of the window seen on the bus for which no notification came."""
        return len(set(self.committed_us) - self.notified)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")
