"""The ingest worker's spans, made only while tracing is on (the worker holds None otherwise).

Per message: `ingest.receive`, from paho's receipt to its classification, the child of the device's
`traceparent` (MQTT 5 user property) or the root of a new trace; and `ingest.commit`, the batch's
transaction as seen by that message. Per bus message that carries readings of a traced message:
`bus.publish` (see `devices.ingest.fanout`). Only sampled traces get children: a message the ratio
left out costs one non-recording span.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from opentelemetry.trace import SpanContext, SpanKind, Tracer

from core.tracing import ROOT, context_of, ns, remote_parent, sampled_context
from devices.ingest.batch import Classified

RECEIVE = "ingest.receive"
COMMIT = "ingest.commit"


class IngestTracing:
    """Starts and ends the worker's spans; `None` in its place means tracing is off."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def received(self, messages: Iterable[Classified]) -> None:
        """One `ingest.receive` span per message, ended now; sampled ones keep it as `trace`."""
        tracer = self.tracer
        now_ns = time.time_ns()
        for message in messages:
            received = message.received
            parent = remote_parent(received.traceparent, received.tracestate) or ROOT
            span = tracer.start_span(
                RECEIVE,
                context=parent,
                kind=SpanKind.CONSUMER,
                start_time=ns(received.received_at),
                attributes={
                    "messaging.system": "mqtt",
                    "messaging.operation.type": "receive",
                    "messaging.destination.name": received.topic,
                    "ownat.device.id": message.device_id or "",
                    "ownat.message.kind": message.kind,
                    "ownat.readings": len(message.readings),
                },
            )
            if message.kind == "dead":
                span.set_attribute("ownat.dead_letter.reason", message.reason_code or "invalid")
            message.trace = sampled_context(span)
            span.end(end_time=now_ns)

    def committed(
        self, messages: Iterable[Classified], *, started_ns: int, readings: int
    ) -> dict[str, SpanContext]:
        """An `ingest.commit` span per traced message of the batch; each device's last one, by device id."""
        ended_ns = time.time_ns()
        by_device: dict[str, SpanContext] = {}
        batch_size = 0
        traced = []
        for message in messages:
            batch_size += 1
            if message.trace is not None:
                traced.append(message)
        for message in traced:
            assert message.trace is not None
            span = self.tracer.start_span(
                COMMIT,
                context=context_of(message.trace),
                start_time=started_ns,
                attributes={"ownat.batch.messages": batch_size, "ownat.batch.readings": readings},
            )
            span.end(end_time=ended_ns)
            if message.device_id and message.kind != "dead":
                by_device[message.device_id] = span.get_span_context()
        return by_device
