"""A real OTLP/HTTP receiver on loopback: what an OpenTelemetry collector would be sent, decoded.

It runs on a thread of its own: `core.tracing.flush` blocks the caller (the test's event loop) while
the SDK's exporter thread posts, so a receiver on that loop could never answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from core import tracing
from tests.ports import HOST, free_port

GUARD_S = 10.0  # a guard against hanging, never a timing assertion


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    service: str
    attributes: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def decode(body: bytes) -> list[ReceivedSpan]:
    """The spans of one OTLP export request (protobuf)."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=span.kind,
                        service=str(resource.get("service.name", "")),
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        links=[(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
                    )
                )
    return spans


class Collector:
    """Receives `POST /v1/traces`; `spans` holds everything received, `requests` counts the posts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._lock = threading.RLock()

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with collector._lock:
                    collector.requests += 1
                    if self.path == "/v1/traces":
                        collector.spans.extend(decode(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[Collector]:
        server = ThreadingHTTPServer((HOST, self.port), self._handler())
        thread = threading.Thread(target=server.serve_forever, name="otlp-collector", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]

    async def wait_for(self, check: Callable[[Collector], bool], *, what: str) -> None:
        """Flushes the process's spans until `check` holds; the guard only stops a hanging test."""
        try:
            async with asyncio.timeout(GUARD_S):
                while True:
                    # Blocks this loop while the exporter posts; the collector answers from its thread.
                    tracing.flush()
                    with self._lock:
                        if check(self):
                            return
                    # Spans end on other tasks of this loop (a socket's writer): let them run.
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(
                f"gave up waiting for {what}; spans: {[s.name for s in self.spans]}"
            ) from None


def chain(spans: list[ReceivedSpan], leaf: ReceivedSpan) -> list[str]:
    """The names from the trace's root down to `leaf`, following each span's parent."""
    by_id = {span.span_id: span for span in spans}
    names = [leaf.name]
    span = leaf
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        names.append(span.name)
    return names[::-1]
