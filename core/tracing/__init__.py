"""OpenTelemetry traces of the live path and of the outbox, exported over OTLP/HTTP when configured.

Off unless `OWNAT_OTLP_ENDPOINT` is set: then `tracer()` is None, which every hook looks at once (the
ingest worker, the hub and the notification worker when they are built, the HTTP middleware per
request) and nothing else of OpenTelemetry runs. On, a process calls `configure(settings,
process=...)` first thing; spans go to the collector in batches from the SDK's own thread. What the
spans are, and how to read them, is in docs/observability.md.
"""

from __future__ import annotations

from core.tracing.hops import LIVE_HOP_BUCKETS
from core.tracing.http import end_server_span, start_server_span
from core.tracing.propagation import (
    OUTBOX_KEY,
    ROOT,
    TRACEPARENT,
    TRACESTATE,
    context_of,
    mqtt_user_properties,
    ns,
    outgoing_headers,
    parent_and_links,
    remote_parent,
    sampled_context,
    trace_headers,
    traceparent_of,
)
from core.tracing.setup import configure, flush, shutdown, tracer, traces_url

__all__ = [
    "LIVE_HOP_BUCKETS",
    "OUTBOX_KEY",
    "ROOT",
    "TRACEPARENT",
    "TRACESTATE",
    "configure",
    "context_of",
    "end_server_span",
    "flush",
    "mqtt_user_properties",
    "ns",
    "outgoing_headers",
    "parent_and_links",
    "remote_parent",
    "sampled_context",
    "shutdown",
    "start_server_span",
    "trace_headers",
    "traceparent_of",
    "tracer",
    "traces_url",
]
