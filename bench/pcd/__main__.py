"""`python -m bench.pcd [--messages N] [--monitors M]`: a monitor gateway's PCD-01 stream against MQTT.

One ingest worker (MQTT 5 from the machine's Mosquitto, PostgreSQL in a scratch database, the live
alarm evaluator after each commit) with the MLLP listener's PCD-01 receiver feeding the same worker,
as `ownat dev` runs them. The same readings (M monitors, eight vital signs a message) go through:

1. PCD-01 over one MLLP connection, streamed: frames sent ahead (up to the listener's read-ahead),
   ACKs read as they come, each ACK sent only after its message's commit;
2. PCD-01 over one MLLP connection, one at a time: the next message after the previous ACK;
3. Ownat's MQTT JSON over one MQTT connection at QoS 1, each message counted when the worker's
   end-to-end acknowledgement (after the commit) reaches the publisher.

Printed: messages/s and values/s, and send-to-acknowledgement p50/p99, for each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.ingest.run import register, scratch_database
from clinical.lab import MllpServer
from core.bus import InProcessBus
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest import IngestConfig, IngestWorker
from devices.pcd import open_receiver
from devices.protocol import END_BLOCK, Observation, decode_ack, frame, pcd01_message
from realtime.alarms import LiveAlarmEvaluator, LiveTuning

VITALS = (
    ("8867-4", "/min", 72.0), ("59408-5", "%", 97.0), ("9279-1", "/min", 16.0), ("8480-6", "mm[Hg]", 122.0),
    ("8462-4", "mm[Hg]", 78.0), ("8478-0", "mm[Hg]", 93.0), ("8310-5", "Cel", 36.8), ("19891-1", "mm[Hg]", 38.0),
)  # fmt: skip
WINDOW = 200  # frames a streaming gateway sends ahead of its ACKs (the listener reads 256 ahead)


def _moments(count: int, monitors: int) -> list[tuple[int, datetime]]:
    """(monitor index, time) of each message: the monitors in turn, one message a second each."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=count // monitors + 60)
    return [(i % monitors, start + timedelta(seconds=i // monitors)) for i in range(count)]


def _pcd_messages(euis: list[str], count: int, label: str) -> list[str]:
    return [
        pcd01_message(
            eui64=euis[m], observations=[Observation(code, value, at) for code, _u, value in VITALS],
            control_id=f"{label}-{i}",
        )
        for i, (m, at) in enumerate(_moments(count, len(euis)))
    ]  # fmt: skip


async def _pcd_streamed(port: int, messages: list[str]) -> tuple[float, list[float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent: list[float] = []
    latencies: list[float] = []
    window = asyncio.Semaphore(WINDOW)

    async def send() -> None:
        for message in messages:
            await window.acquire()
            sent.append(time.perf_counter())
            writer.write(frame(message))
            await writer.drain()

    sender = asyncio.create_task(send())
    started = time.perf_counter()
    for index in range(len(messages)):
        answer = await reader.readuntil(END_BLOCK)
        latencies.append(time.perf_counter() - sent[index])
        window.release()
        assert b"MSA|AA" in answer, answer
    elapsed = time.perf_counter() - started
    await sender
    writer.close()
    return elapsed, latencies


async def _pcd_one_at_a_time(port: int, messages: list[str]) -> tuple[float, list[float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies = []
    started = time.perf_counter()
    for message in messages:
        sent = time.perf_counter()
        writer.write(frame(message))
        await writer.drain()
        answer = await reader.readuntil(END_BLOCK)
        latencies.append(time.perf_counter() - sent)
        assert b"MSA|AA" in answer, answer
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed, latencies


def _mqtt_end_to_end(mqtt_url: str, devices: list[str], count: int) -> tuple[float, list[float]]:
    """Publishes on paho's own thread; each message counts when its end-to-end ack arrives."""
    payloads = []
    for seq, (m, at) in enumerate(_moments(count, len(devices))):
        stamp = at.isoformat().replace("+00:00", "Z")
        readings = [{"metric": c, "value": v, "unit": u, "time": stamp} for c, u, v in VITALS]
        payloads.append((devices[m], seq, json.dumps({"v": 1, "seq": seq, "readings": readings}).encode()))
    sent: dict[tuple[str, int], float] = {}
    latencies: list[float] = []
    done = threading.Event()
    lock = threading.Lock()

    def on_ack(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        device = message.topic.split("/")[3]
        ack = decode_ack(bytes(message.payload))
        with lock:
            for first, last in ack.seqs:
                for seq in range(first, last + 1):
                    at = sent.pop((device, seq), None)
                    if at is not None:
                        latencies.append(now - at)
            if len(latencies) == count:
                done.set()

    parts = urlsplit(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"bench-pcd-{secrets.token_hex(3)}", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(1000)
    client.on_message = on_ack
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    client.subscribe("ownat/v1/devices/+/ack", qos=0)
    time.sleep(0.5)  # the subscription settles before the first publish (a start-up step, not a measure)
    started = time.perf_counter()
    for device, seq, payload in payloads:
        with lock:
            sent[device, seq] = time.perf_counter()
        client.publish(f"ownat/v1/devices/{device}/vitals", payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - started
    client.loop_stop()
    client.disconnect()
    return elapsed, latencies


def _line(name: str, count: int, elapsed: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"{name:<34} {count / elapsed:>8.0f} msg/s {count * len(VITALS) / elapsed:>9.0f} values/s"
        f"   ack p50 {statistics.median(ordered) * 1000:>6.1f} ms  p99 {p99 * 1000:>6.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pcd", description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="messages per streamed run")
    parser.add_argument("--monitors", type=int, default=20)
    args = parser.parse_args()
    postgres = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    mqtt_url = os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    streamed_euis = [secrets.token_hex(8).upper() for _ in range(args.monitors)]
    single_euis = [secrets.token_hex(8).upper() for _ in range(args.monitors)]
    mqtt_devices = [f"bench-pcd-{secrets.token_hex(3)}-{i:03d}" for i in range(args.monitors)]
    one_at_a_time = max(50, args.messages // 10)
    print(f"preparing: scratch database, {3 * args.monitors} monitors ...", flush=True)
    async with scratch_database(postgres) as database_url:
        await register(database_url, streamed_euis + single_euis + mqtt_devices)
        engine = create_engine(database_url)
        sessions = create_sessionmaker(engine)
        bus = InProcessBus()
        worker = IngestWorker(
            config=IngestConfig(
                database_url=database_url, broker_url=mqtt_url, client_id=f"bench-pcd-{secrets.token_hex(3)}",
                share_group=f"bench-pcd-{secrets.token_hex(3)}",
            ),
            engine=engine, sessions=sessions, bus=bus,
            observer=LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning()),
        )  # fmt: skip
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(worker.ready.wait(), 60)
            async with MllpServer(
                sessions=sessions, port=0, devices=open_receiver(sessions=sessions, inlet=worker)
            ) as server:
                results = []
                streamed = _pcd_messages(streamed_euis, args.messages, "S")
                results.append(
                    ("PCD-01, MLLP, streamed", args.messages, *await _pcd_streamed(server.port, streamed))
                )
                single = _pcd_messages(single_euis, one_at_a_time, "O")
                results.append(
                    (
                        "PCD-01, MLLP, one at a time",
                        one_at_a_time,
                        *await _pcd_one_at_a_time(server.port, single),
                    )
                )
                elapsed, latencies = await asyncio.to_thread(
                    _mqtt_end_to_end, mqtt_url, mqtt_devices, args.messages
                )
                results.append(("MQTT JSON, QoS 1, end-to-end ack", len(latencies), elapsed, latencies))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()
    print(
        f"\n{args.messages} messages of {len(VITALS)} values from {args.monitors} monitors; one connection each path"
    )
    for name, count, elapsed, latencies in results:
        print(_line(name, count, elapsed, latencies))
    load = os.getloadavg()
    print(f"\nload average during the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    asyncio.run(main())
