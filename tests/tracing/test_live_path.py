"""Traces of the live path, device to dashboard, through the real broker, database, Redis and hub.

A device's MQTT 5 `traceparent` is continued by the ingest worker and carried on the bus to the hub,
whose frame and socket send close the trace; a device that sends none gets a trace started at
ingest; with tracing off nothing is exported and nothing is installed.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from core import tracing
from core.settings import Settings
from tests.devices.ingest_helpers import running_worker, worker_config
from tests.realtime.hub_helpers import HubClient, RunningHub, hub_client, serve_app, token_for
from tests.tracing.collector import Collector, ReceivedSpan, chain
from tests.tracing.live_helpers import MonitoredBed, monitored_bed, publish_vitals

pytestmark = pytest.mark.asyncio

LIVE_PATH = ["ingest.receive", "ingest.commit", "bus.publish", "hub.receive", "hub.frame", "ws.send"]


@asynccontextmanager
async def live_path(
    settings: Settings, postgres_url: str, mqtt_url: str
) -> AsyncIterator[tuple[RunningHub, MonitoredBed, HubClient, Any]]:
    """An api with its hub, an ingest worker on its bus, and a nurse's dashboard watching a monitored ward."""
    async with AsyncExitStack() as stack:
        running = await stack.enter_async_context(serve_app(settings))
        bed = await monitored_bed(running.app.state.resources.sessions)
        worker = await stack.enter_async_context(
            running_worker(worker_config(postgres_url, mqtt_url), bus=running.bus)
        )
        client = await stack.enter_async_context(hub_client(running.url, token_for(bed.nurse, settings)))
        assert (await client.subscribe("ward", bed.ward_id))["type"] == "snapshot"
        yield running, bed, client, worker


def _whole_chain_arrived(spans: list[ReceivedSpan]) -> bool:
    """Every span from ingest to the socket is in: spans are exported as each ends, so a later hop's
    span (the frame sent) can reach the collector before an earlier one's (the publish) does."""
    return any(chain(spans, s) == LIVE_PATH for s in spans if s.name == "ws.send")


def _one(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


async def test_a_devices_traceparent_is_continued_to_the_dashboards_socket(
    traced: Settings, collector: Collector, postgres_url: str, mqtt_url: str
) -> None:
    # The device decided to sample; the ratio would keep nothing of a trace started here.
    tracing.shutdown()
    assert tracing.configure(traced.model_copy(update={"trace_sample_ratio": 0.0}), process="test")
    trace_id, device_span_id = secrets.token_hex(16), secrets.token_hex(8)
    async with live_path(traced, postgres_url, mqtt_url) as (_running, bed, client, _worker):
        traceparent = f"00-{trace_id}-{device_span_id}-01"
        await publish_vitals(mqtt_url, bed.device_id, user_properties=[("traceparent", traceparent)])
        frame = await client.receive_type("vitals")
        assert {r["device_id"] for r in frame["readings"]} == {bed.device_id}
        await collector.wait_for(
            lambda c: _whole_chain_arrived(c.trace(trace_id)), what="the trace from ingest to the socket"
        )
    spans = collector.trace(trace_id)
    receive = _one(spans, "ingest.receive")
    assert receive.parent_span_id == device_span_id
    assert receive.attributes["ownat.device.id"] == bed.device_id
    assert receive.attributes["messaging.destination.name"] == f"ownat/v1/devices/{bed.device_id}/vitals"
    assert chain(spans, _one(spans, "ws.send")) == LIVE_PATH
    assert _one(spans, "bus.publish").attributes["messaging.destination.name"] == f"vitals.ward.{bed.ward_id}"
    assert {s.service for s in spans} == {"ownat-test"}


async def test_a_message_without_traceparent_starts_its_trace_at_ingest(
    traced: Settings, collector: Collector, postgres_url: str, mqtt_url: str
) -> None:
    async with live_path(traced, postgres_url, mqtt_url) as (_running, bed, client, _worker):
        await publish_vitals(mqtt_url, bed.device_id, user_properties=[])
        await client.receive_type("vitals")

        def traced_to_the_socket(c: Collector) -> bool:
            roots = [
                s
                for s in c.spans
                if s.name == "ingest.receive" and s.attributes["ownat.device.id"] == bed.device_id
            ]
            return bool(roots) and _whole_chain_arrived(c.trace(roots[0].trace_id))

        await collector.wait_for(traced_to_the_socket, what="a trace from ingest to the socket")
    [root] = [
        s
        for s in collector.spans
        if s.name == "ingest.receive" and s.attributes["ownat.device.id"] == bed.device_id
    ]
    assert root.parent_span_id == ""
    spans = collector.trace(root.trace_id)
    assert chain(spans, _one(spans, "ws.send")) == LIVE_PATH


async def test_with_tracing_off_nothing_is_installed_or_exported_and_the_hops_are_still_measured(
    settings: Settings, collector: Collector, postgres_url: str, mqtt_url: str
) -> None:
    assert settings.otlp_endpoint is None
    assert not tracing.configure(settings, process="test")
    assert tracing.tracer() is None
    async with live_path(settings, postgres_url, mqtt_url) as (running, bed, client, worker):
        on_the_bus = running.bus.subscribe(channels=[f"vitals.ward.{bed.ward_id}"])
        async with on_the_bus as ward_messages:
            traceparent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"
            await publish_vitals(mqtt_url, bed.device_id, user_properties=[("traceparent", traceparent)])
            await client.receive_type("vitals")
            message = await anext(aiter(ward_messages))
        hub_metrics = running.hub.metrics
    # Nothing of OpenTelemetry's SDK was set up, and the bus carried no trace context.
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    assert "traceparent" not in message.data and "sent_at" in message.data
    assert collector.requests == 0
    # The hops are Prometheus histograms, there whether tracing is on or off.
    assert worker.metrics.receive_to_commit._sum.get() > 0
    assert _count(worker.metrics.commit_to_bus) >= 1
    assert _count(hub_metrics.bus_to_receive) >= 1
    assert _count(hub_metrics.receive_to_send) >= 1


def _count(histogram: Any) -> float:
    return next(s.value for m in histogram.collect() for s in m.samples if s.name.endswith("_count"))
