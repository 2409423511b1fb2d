"""HTTP requests as server spans: the caller's `traceparent` continued, the span made current so
that the request's database statements and outbox events (`core.tracing.database`) join it."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from core.tracing.propagation import ROOT, TRACEPARENT, TRACESTATE, remote_parent


def start_server_span(
    tracer: Tracer, *, method: str, path: str, headers: Mapping[str, str]
) -> tuple[Span, object]:
    """Starts a request's span and makes it current; hand both to `end_server_span`."""
    parent = remote_parent(headers.get(TRACEPARENT), headers.get(TRACESTATE)) or ROOT
    span = tracer.start_span(
        f"{method} {path}",
        context=parent,
        kind=SpanKind.SERVER,
        # The path as requested may hold ids; the span is renamed after the route's template.
        attributes={"http.request.method": method, "url.path": path},
    )
    token = otel_context.attach(trace.set_span_in_context(span, parent))
    return span, token


def end_server_span(span: Span, token: object, *, method: str, route: str | None, status: int) -> None:
    """Names the span after its route, records the status, ends it and restores the context."""
    if route is not None:
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end()
    otel_context.detach(token)  # type: ignore[arg-type]
