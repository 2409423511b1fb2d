"""A request's trace through the database and the outbox to the notification worker's delivery."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from core.resources import Resources
from core.settings import Settings
from tests.clinical.scheduling_builders import account, appointment_type, at, book, future_day, practitioner
from tests.notifications.builders import notification_settings, subscription, worker
from tests.notifications.servers import HttpRecorder
from tests.tracing.collector import Collector, ReceivedSpan, chain

pytestmark = pytest.mark.asyncio

SERVER, PRODUCER = 2, 4  # OTLP's SpanKind numbers


def _webhook_delivery(collector: Collector, trace_id: str) -> ReceivedSpan | None:
    return next(
        (
            s
            for s in collector.trace(trace_id)
            if s.name == "notifications.deliver" and s.attributes["ownat.channel"] == "webhook"
        ),
        None,
    )


async def test_a_booking_is_traced_from_the_request_through_the_outbox_to_the_webhook_delivery(
    traced: Settings,
    collector: Collector,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
) -> None:
    trace_id, caller_span_id = secrets.token_hex(16), secrets.token_hex(8)
    async with HttpRecorder().serving() as receiver:
        await subscription(sessions, receiver.url, ["appointment.booked"])
        _patient, headers = await account(sessions, traced, Role.PATIENT)
        doctor, kind = await practitioner(sessions), await appointment_type(sessions)
        booked = await book(
            client,
            {**headers, "traceparent": f"00-{trace_id}-{caller_span_id}-01"},
            practitioner_id=doctor.id,
            kind=kind,
            start_at=at(future_day(), 10),
        )
        assert booked.status_code == 201, booked.text
        # Built now: the worker looks once whether tracing is on.
        the_worker = worker(resources, notification_settings())
        try:
            await the_worker.fan_out()
            await the_worker.deliver_due()
        finally:
            await the_worker.close()
        await collector.wait_for(
            lambda c: _delivery_chain_arrived(c, trace_id), what="the trace from the request to the delivery"
        )
        [hook] = [
            r
            for r in receiver.requests
            if json.loads(r.body)["data"].get("appointment_id") == booked.json()["id"]
        ]

    spans = collector.trace(trace_id)
    delivery = _webhook_delivery(collector, trace_id)
    assert delivery is not None and delivery.kind == PRODUCER
    [request] = [s for s in spans if s.kind == SERVER]
    assert request.parent_span_id == caller_span_id
    assert request.name.startswith("POST ") and request.attributes["http.response.status_code"] == 201
    assert chain(spans, delivery) == [
        request.name,
        "outbox.record",
        "notifications.fan_out",
        "notifications.deliver",
    ]
    # The request's statements are its children; their parameters (patients' data) are not recorded.
    statements = [s for s in spans if s.name == "db.query" and s.parent_span_id == request.span_id]
    assert any(s.attributes["db.operation.name"] == "INSERT" for s in statements)
    assert all(
        set(s.attributes) == {"db.system.name", "db.query.text", "db.operation.name"} for s in statements
    )
    # The receiver is told the delivery's trace in the standard header, not in the event's data.
    assert hook.headers["traceparent"] == f"00-{trace_id}-{delivery.span_id}-01"
    assert "_traceparent" not in json.loads(hook.body)["data"]


def _delivery_chain_arrived(c: Collector, trace_id: str) -> bool:
    """The delivery span and each of its ancestors up to the request are in (spans are exported as
    each ends, and not always in the order the chain runs)."""
    delivery = _webhook_delivery(c, trace_id)
    return delivery is not None and len(chain(c.trace(trace_id), delivery)) == 4
