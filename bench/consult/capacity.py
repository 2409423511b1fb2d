"""How many consultations one api instance signals for while staying responsive.

Each simulated consultation is a patient and a clinician socket, joined and admitted, that then
relay ICE candidates to each other at a steady rate (what ICE restarts and renegotiations cost in
a live consultation is far less). Meanwhile a probe socket measures `ping` round trips: the
instance is responsive while their p99 stays under the threshold.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import time
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect

from bench.consult.visits import Visit

CANDIDATE = {"candidate": "candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host", "sdpMid": "0"}


@dataclass(frozen=True, slots=True)
class Step:
    rooms: int
    setup_s: float
    relayed_per_s: float
    probe_p50_ms: float
    probe_p99_ms: float


async def _socket(url: str, token: str) -> ClientConnection:
    ws = await connect(url, max_size=2**20, open_timeout=60)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return ws


async def _next(ws: ClientConnection, kind: str) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind:
            return message


async def open_room(url: str, visit: Visit) -> tuple[ClientConnection, ClientConnection, str, str]:
    """A consultation in progress: both joined, the patient admitted."""
    patient, clinician = await _socket(url, visit.patient_token), await _socket(url, visit.clinician_token)
    await patient.send(json.dumps({"type": "join", "room": str(visit.room)}))
    patient_id = (await _next(patient, "joined"))["participant"]["id"]
    await clinician.send(json.dumps({"type": "join", "room": str(visit.room)}))
    clinician_id = (await _next(clinician, "joined"))["participant"]["id"]
    await clinician.send(json.dumps({"type": "admit", "participant": patient_id}))
    await _next(patient, "admitted")
    return patient, clinician, patient_id, clinician_id


async def _chatter(sender: ClientConnection, to: str, rate_hz: float, stop: asyncio.Event) -> None:
    message = json.dumps({"type": "ice", "to": to, "candidate": CANDIDATE})
    while not stop.is_set():
        await sender.send(message)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1 / rate_hz)


async def _count(receiver: ClientConnection, counter: list[int]) -> None:
    async for _ in receiver:
        counter[0] += 1


async def _probe(url: str, token: str, seconds: float) -> list[float]:
    ws = await _socket(url, token)
    await _next(ws, "ready")
    rtts = []
    deadline = time.perf_counter() + seconds
    seq = 0
    while time.perf_counter() < deadline:
        seq += 1
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "ping", "seq": seq}))
        await _next(ws, "pong")
        rtts.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    await ws.close()
    return rtts


async def measure(url: str, visits: list[Visit], probe_token: str, *, rate_hz: float, seconds: float) -> Step:
    """Opens len(visits) consultations, loads them for `seconds`, and probes the instance meanwhile."""
    started = time.perf_counter()
    rooms = await asyncio.gather(*(open_room(url, visit) for visit in visits))
    setup_s = time.perf_counter() - started
    stop, counter = asyncio.Event(), [0]
    tasks = []
    for patient, clinician, patient_id, clinician_id in rooms:
        tasks += [
            asyncio.create_task(_chatter(patient, clinician_id, rate_hz, stop)),
            asyncio.create_task(_chatter(clinician, patient_id, rate_hz, stop)),
            asyncio.create_task(_count(patient, counter)),
            asyncio.create_task(_count(clinician, counter)),
        ]
    rtts = await _probe(url, probe_token, seconds)
    stop.set()
    relayed = counter[0]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.gather(*(ws.close() for room in rooms for ws in room[:2]), return_exceptions=True)
    ordered = sorted(rtts)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return Step(len(visits), setup_s, relayed / seconds, statistics.median(rtts), p99)
