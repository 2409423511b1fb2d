"""`python -m bench.fanout.clients CONFIG`: many dashboard clients in one process, measuring on arrival.

CONFIG (JSON): `url`, `clients` ([token, ward] each) and `scripted` (patient ids whose `raised`
alarms are timed). Each client signs in with its token, subscribes to its ward and answers pings.
Prints `ready` once every client has its snapshot; a `start [FROM, TO]` line sets the window of
publish times (µs) counted; on a `stop EXPECTED` line (readings per ward, crossing patients per ward)
it waits until each client has every reading and an alarm for every crossing, or a guard passes, then prints one JSON line of results. Latencies go into 1 ms bins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection, connect

BINS = 20_000  # 1 ms each: up to 20 s
OPEN_CONCURRENCY = 16
DRAIN_GUARD_S = 30.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True, eq=False)
class Client:
    ward: str
    received: int = 0  # readings with a publish time in the window
    index: int = 0
    awaited_alarms: set[str] = field(default_factory=set)  # set at `stop`: crossings not yet alarmed

    def short_of(self, expected: dict[str, int]) -> bool:
        return self.received < expected.get(self.ward, 0) or bool(self.awaited_alarms)


@dataclass(slots=True)
class Tally:
    window: tuple[int, int]
    histogram: list[int] = field(default_factory=lambda: [0] * BINS)
    max_ms: float = 0.0
    messages: int = 0  # vitals and alarm messages arriving inside the window
    resyncs: int = 0
    closed: list[str] = field(default_factory=list)
    alarm_arrivals: list[tuple[int, str, int]] = field(default_factory=list)  # (client, patient, µs)
    # Set at `stop`: readings each ward should get, the clients still short of them, set when none are.
    expected: dict[str, int] | None = None
    short: set[Client] = field(default_factory=set)
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    _times: dict[str, int] = field(default_factory=dict)
    frames: dict[str | bytes, tuple[str, dict, list[int]]] = field(default_factory=dict)

    def micros(self, text: str) -> int:
        """A reading time in µs since the epoch, parsed once per distinct string."""
        value = self._times.get(text)
        if value is None:
            if len(self._times) > 100_000:
                self._times.clear()
            delta = datetime.fromisoformat(text.replace("Z", "+00:00")) - EPOCH
            value = self._times[text] = (
                delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
            )
        return value


def _parsed(tally: Tally, raw: str | bytes) -> tuple[str, dict, list[int]]:
    """A frame's type, body and reading times (µs); parsed once per distinct frame in this process.

    The clients of one ward receive the same frames: parsing each text once keeps the load
    generator's CPU for receiving, so that it measures the server rather than itself.
    """
    cached = tally.frames.get(raw)
    if cached is None:
        if len(tally.frames) > 4096:
            tally.frames.clear()
        message = json.loads(raw)
        kind = message["type"]
        times = [tally.micros(r["time"]) for r in message["readings"]] if kind == "vitals" else []
        cached = tally.frames[raw] = (kind, message, times)
    return cached


async def _watch(tally: Tally, client: Client, connection: ClientConnection, scripted: set[str]) -> None:
    histogram = tally.histogram
    async for raw in connection:
        start, end = tally.window
        arrived = time.time_ns() // 1000
        kind, message, times = _parsed(tally, raw)
        if start <= arrived < end and kind in ("vitals", "alarm"):
            tally.messages += 1
        if kind == "vitals":
            for published in times:
                if start <= published < end:
                    client.received += 1
                    latency_ms = (arrived - published) / 1000
                    histogram[min(BINS - 1, max(0, int(latency_ms)))] += 1
                    if latency_ms > tally.max_ms:
                        tally.max_ms = latency_ms
            if client in tally.short and not client.short_of(tally.expected):
                tally.short.discard(client)
                if not tally.short:
                    tally.complete.set()
        elif kind == "alarm":
            body = message["alarm"]
            patient = str(body.get("alarm", {}).get("patient_id"))
            if body.get("change") == "raised" and patient in scripted:
                tally.alarm_arrivals.append((client.index, patient, arrived))
                client.awaited_alarms.discard(patient)
        elif kind == "ping":
            await connection.send(json.dumps({"type": "pong", "seq": message["seq"]}))
        elif kind == "resync":
            tally.resyncs += 1


async def _open(url: str, token: str, client: Client, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        # The hub has its own heartbeat (answered below); the library's pings would only add load.
        connection = await connect(url, open_timeout=120, max_size=None, max_queue=None, ping_interval=None)
        await connection.send(json.dumps({"type": "auth", "token": token}))
        ready = json.loads(await asyncio.wait_for(connection.recv(), 120))
        if ready["type"] != "ready":
            raise RuntimeError(f"sign-in refused: {ready}")
        await connection.send(json.dumps({"type": "subscribe", "scope": "ward", "id": client.ward}))
        while (answer := json.loads(await asyncio.wait_for(connection.recv(), 120)))["type"] != "snapshot":
            if answer["type"] == "error":
                raise RuntimeError(f"subscription refused: {answer}")
        return connection


async def _open_and_watch(
    config: dict,
    token: str,
    client: Client,
    gate: asyncio.Semaphore,
    tally: Tally,
    scripted: set[str],
    opened: dict[int, ClientConnection | BaseException],
    all_open: asyncio.Event,
) -> None:
    # Watching (and answering the hub's pings) from the moment this socket is open, not once every
    # socket is: opening a thousand under load took longer than the hub waits for a pong, and the
    # first sockets opened were closed (4408) before the run began.
    try:
        connection = await _open(config["url"], token, client, gate)
    except Exception as error:  # the run cannot go on: `main` raises it
        opened[client.index] = error
        all_open.set()
        return
    opened[client.index] = connection
    if len(opened) == len(config["clients"]):
        all_open.set()
    await _watch(tally, client, connection, scripted)


async def main(config: dict) -> None:
    tally = Tally(window=(0, 0))
    clients = [Client(ward, index=n) for n, (_token, ward) in enumerate(config["clients"])]
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    scripted = set(config["scripted"])
    opened: dict[int, ClientConnection | BaseException] = {}
    all_open = asyncio.Event()
    watchers = [
        asyncio.create_task(_open_and_watch(config, token, c, gate, tally, scripted, opened, all_open))
        for (token, _w), c in zip(config["clients"], clients, strict=True)
    ]
    await all_open.wait()
    for outcome in list(opened.values()):
        if isinstance(outcome, BaseException):
            raise outcome
    connections = [opened[c.index] for c in clients]
    print("ready", flush=True)
    start, end = json.loads((await asyncio.to_thread(sys.stdin.readline)).split(" ", 1)[1])
    tally.window = (start, end)
    line = await asyncio.to_thread(sys.stdin.readline)
    stop = json.loads(line.split(" ", 1)[1])
    tally.expected = expected = stop["readings"]
    for c in clients:
        # Alarms raised before `stop` were seen already; those still awaited may arrive after the readings.
        seen = {patient for index, patient, _at in tally.alarm_arrivals if index == c.index}
        c.awaited_alarms = set(stop["alarms"].get(c.ward, [])) - seen
    tally.short = {c for c in clients if c.short_of(expected)}
    if tally.short:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.complete.wait(), DRAIN_GUARD_S)
    for watcher, connection in zip(watchers, connections, strict=True):
        if watcher.done() and watcher.exception() is not None:
            tally.closed.append(repr(watcher.exception()))
        elif connection.close_code is not None:
            tally.closed.append(f"{connection.close_code} {connection.close_reason}")
        watcher.cancel()
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    result = {
        "histogram": {str(i): n for i, n in enumerate(tally.histogram) if n},
        "max_ms": tally.max_ms,
        "messages": tally.messages,
        "resyncs": tally.resyncs,
        "closed": tally.closed,
        "received": [[c.ward, c.received] for c in clients],
        "alarm_arrivals": tally.alarm_arrivals,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    with open(sys.argv[1]) as source:
        asyncio.run(main(json.load(source)))
