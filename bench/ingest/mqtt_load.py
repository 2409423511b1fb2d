"""The MQTT stage of `bench.ingest.cpu`: CPU of receiving and acknowledging, with the publisher elsewhere."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.ingest import MqttConsumer, Received, SubscriptionOptions
from devices.protocol import topic_for

GUARD_S = 120.0


def _publish(mqtt_url: str, device_ids: list[str], payloads: list[bytes]) -> None:
    # In a process of its own: its CPU is not the worker's.
    parts = urlsplit(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    infos = [
        client.publish(topic_for(device_ids[i % len(device_ids)], "vitals"), payload, qos=1)
        for i, payload in enumerate(payloads)
    ]
    for info in infos:
        info.wait_for_publish(GUARD_S)
    client.disconnect()
    client.loop_stop()


async def receive_cpu_s(mqtt_url: str, device_ids: list[str], payloads: list[bytes]) -> float:
    """CPU seconds this process spends receiving and acknowledging `payloads` through `MqttConsumer`."""
    ours = {topic_for(d, "vitals") for d in device_ids}
    done = asyncio.Event()
    count = 0
    consumer: MqttConsumer | None = None

    def on_messages(messages: list[Received]) -> None:
        nonlocal count
        assert consumer is not None
        consumer.ack_many(messages)  # as the worker does after a commit
        count += sum(message.topic in ours for message in messages)
        if count >= len(payloads):
            done.set()

    group = f"cpu-{secrets.token_hex(3)}"
    options = SubscriptionOptions(client_id=group, share_group=group, session_expiry_s=0)
    consumer = MqttConsumer(url=mqtt_url, options=options, on_messages=on_messages)
    consumer.start()
    try:
        await asyncio.wait_for(consumer.connected.wait(), GUARD_S)
        started = time.process_time()
        publisher = multiprocessing.get_context("spawn").Process(
            target=_publish, args=(mqtt_url, device_ids, payloads)
        )
        publisher.start()
        await asyncio.wait_for(done.wait(), GUARD_S)
        spent = time.process_time() - started
        await asyncio.to_thread(publisher.join, GUARD_S)
        return spent
    finally:
        await consumer.stop()
