"""Trace context across the wire: W3C `traceparent`/`tracestate` read from a device or a caller,
written into a bus message, and the parent and links of a span that merges several traces.

MQTT 5 carries them as user properties named `traceparent` and `tracestate` (optional for devices);
HTTP as the headers of the same names; the bus as a `traceparent` key of the payloads that have one
(`core.bus.WardReadings`), and the outbox as a `_traceparent` key of the event's payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, Span, SpanContext
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
# The outbox event's payload key (`core.outbox`); removed from what leaves for other systems.
OUTBOX_KEY = "_traceparent"
# Traces merged into one span (a ward's bus message, a coalesced frame): the first is its parent,
# up to this many others its links; more would cost more than they tell.
MAX_LINKS = 32

_PROPAGATOR = TraceContextTextMapPropagator()
# A parent that is no parent: the span starts a trace of its own, whatever the caller's context.
ROOT = Context()


def remote_parent(traceparent: str | None, tracestate: str | None = None) -> Context | None:
    """The context a remote `traceparent` names, or None when there is none or it is malformed."""
    if not traceparent:
        return None
    carrier = {TRACEPARENT: traceparent}
    if tracestate:
        carrier[TRACESTATE] = tracestate
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def traceparent_of(span_context: SpanContext) -> str:
    """The W3C `traceparent` of a span, version 00."""
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{int(span_context.trace_flags):02x}"


def context_of(span_context: SpanContext) -> Context:
    """A context whose current span is `span_context`: what a child span is started in."""
    return trace.set_span_in_context(NonRecordingSpan(span_context), ROOT)


def parent_and_links(span_contexts: Sequence[SpanContext]) -> tuple[Context, list[Link]]:
    """For a span that merges several traces: the first as its parent, the others as links."""
    return context_of(span_contexts[0]), [Link(other) for other in span_contexts[1 : MAX_LINKS + 1]]


def sampled_context(span: Span) -> SpanContext | None:
    """The span's context when it is recorded (sampled), else None: children of it are not made."""
    return span.get_span_context() if span.is_recording() else None


def ns(at: datetime) -> int:
    """A time as OpenTelemetry takes it: nanoseconds since the epoch."""
    return int(at.timestamp() * 1e9)


def outgoing_headers() -> dict[str, str]:
    """`traceparent` of the current span for an outgoing HTTP request, when it is sampled; else empty."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid or not span_context.trace_flags.sampled:
        return {}
    return {TRACEPARENT: traceparent_of(span_context)}


def mqtt_user_properties(span_context: SpanContext, tracestate: str | None = None) -> list[tuple[str, str]]:
    """The MQTT 5 user properties a publisher (a device, the simulator, a test) sends its trace in."""
    properties = [(TRACEPARENT, traceparent_of(span_context))]
    if tracestate:
        properties.append((TRACESTATE, tracestate))
    return properties


def trace_headers(user_properties: Iterable[tuple[str, str]]) -> tuple[str | None, str | None]:
    """`traceparent` and `tracestate` among MQTT user properties (the first of each), or None."""
    traceparent = tracestate = None
    for name, value in user_properties:
        if name == TRACEPARENT and traceparent is None:
            traceparent = value
        elif name == TRACESTATE and tracestate is None:
            tracestate = value
    return traceparent, tracestate
