"""Database statements and outbox events inside a trace, while tracing is on.

Statements become `db.query` spans only inside a span that is recorded (an HTTP request, a worker's
delivery): a background job's statements start no trace of their own. An outbox event recorded
inside such a span gets an `outbox.record` span and carries its `traceparent` in the payload
(`propagation.OUTBOX_KEY`), so that the worker's fan-out and delivery join the request's trace.
The listeners are on SQLAlchemy's classes, so every engine of the process is covered; they are
registered by `setup.configure` and removed by `setup.shutdown`, never present while tracing is off.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Engine

from core.outbox import OutboxEvent
from core.tracing.propagation import OUTBOX_KEY, traceparent_of

# Long statements (a bulk insert's VALUES) are cut: the span is for finding the slow one.
STATEMENT_MAX_CHARS = 500
_SPAN_KEY = "ownat_trace_span"


class _Listeners:
    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def before_execute(
        self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if context is None or not trace.get_current_span().is_recording():
            return
        dialect = context.dialect.name
        # Parameters never go on the span: they are patients' data. The statement holds placeholders.
        context.__dict__[_SPAN_KEY] = self.tracer.start_span(
            "db.query",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": dialect,
                "db.query.text": statement[:STATEMENT_MAX_CHARS],
                "db.operation.name": statement.lstrip().split(" ", 1)[0].upper(),
            },
        )

    def after_execute(
        self, _conn: Any, _cursor: Any, _stmt: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span = context.__dict__.pop(_SPAN_KEY, None) if context is not None else None
        if span is not None:
            span.end()

    def on_error(self, exception_context: Any) -> None:
        context = exception_context.execution_context
        span = context.__dict__.pop(_SPAN_KEY, None) if context is not None else None
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(exception_context.original_exception).__name__))
            span.end()

    def before_outbox_insert(self, _mapper: Any, _connection: Any, target: OutboxEvent) -> None:
        if not trace.get_current_span().is_recording():
            return
        span = self.tracer.start_span(
            "outbox.record", kind=SpanKind.PRODUCER, attributes={"ownat.event.type": target.event_type}
        )
        # Changing a column of the row being inserted is what `before_insert` allows.
        target.payload = {**(target.payload or {}), OUTBOX_KEY: traceparent_of(span.get_span_context())}
        span.end()


_active: _Listeners | None = None


def _registrations(listeners: _Listeners) -> list[tuple[Any, str, Any]]:
    return [
        (Engine, "before_cursor_execute", listeners.before_execute),
        (Engine, "after_cursor_execute", listeners.after_execute),
        (Engine, "handle_error", listeners.on_error),
        (OutboxEvent, "before_insert", listeners.before_outbox_insert),
    ]


def start(tracer: Tracer) -> None:
    """Registers the listeners (once)."""
    global _active
    if _active is not None:
        return
    _active = _Listeners(tracer)
    for target, name, listener in _registrations(_active):
        event.listen(target, name, listener)


def stop() -> None:
    """Removes the listeners."""
    global _active
    if _active is None:
        return
    for target, name, listener in _registrations(_active):
        event.remove(target, name, listener)
    _active = None
