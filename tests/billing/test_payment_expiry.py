"""Abandoned card payments settled by `ownat worker`'s job, against PostgreSQL and the loopback
gateway: cancelled and released, recorded when they succeeded meanwhile, young ones left alone, an
unreachable gateway leaving them pending, and two workers at once settling each payment once.

Payments are made old by moving their `created_at` back; the job reads the clock, nothing waits."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.expiry import run_payment_expiry, settle_abandoned_payments
from billing.payments.gateway import StripeStyleGateway
from billing.payments.models import Payment, PaymentStatus
from billing.payments.test_gateway import GatewayState
from core.audit.models import AuditEvent
from core.db import utc_now
from core.principal import SYSTEM_USER_ID
from core.resources import Resources
from core.sessions import transaction
from tests.billing.builders import BILLING, add_service, call, charge, issued_invoice, pay
from tests.clinical.encounter_builders import PatientAccount, People

VISA = "pm_card_visa"
EXPIRY_S = 1800  # the default of OWNAT_PAYMENT_PENDING_EXPIRY_S, which the app under test keeps


@pytest.fixture
def resources(billing_app: FastAPI) -> Resources:
    return billing_app.state.resources


@pytest.fixture
def refusing_url() -> Iterator[str]:
    """A loopback address bound but never listening: every connection is refused at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


async def _abandoned(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    *,
    age: timedelta | None = timedelta(hours=2),
) -> tuple[PatientAccount, dict[str, Any], uuid.UUID]:
    """An issued invoice and a card payment started for all of it, never confirmed, `age` old."""
    patient = await people.patient()
    await charge(client, clerk, patient.patient_id, await add_service(sessions, amount_minor=10_000))
    invoice = await issued_invoice(client, clerk, patient.patient_id)
    started = await pay(client, patient.headers, invoice["id"], 10_000, method="card")
    payment_id = uuid.UUID(started.json().get("id") or started.json()["payment_id"])
    if age is not None:
        await _age(sessions, payment_id, age)
    return patient, invoice, payment_id


async def _age(sessions: async_sessionmaker[AsyncSession], payment_id: uuid.UUID, age: timedelta) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            update(Payment).where(Payment.id == payment_id).values(created_at=utc_now() - age)
        )


async def _payment(sessions: async_sessionmaker[AsyncSession], payment_id: uuid.UUID) -> Payment:
    async with sessions() as session:
        payment = await session.get(Payment, payment_id)
        assert payment is not None
        return payment


async def _invoice(client: httpx.AsyncClient, invoice_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return await call(client.get(f"{BILLING}/invoices/{invoice_id}", headers=headers))


def _cancels(gateway: GatewayState, intent_id: str | None) -> int:
    return gateway.calls.count(("POST", f"/v1/payment_intents/{intent_id}/cancel"))


async def test_an_abandoned_payment_is_cancelled_at_the_gateway_and_its_balance_freed(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice, payment_id = await _abandoned(billing_client, billing_sessions, people, clerk)
    await run_payment_expiry(resources, now=utc_now())

    payment = await _payment(billing_sessions, payment_id)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason == "Not confirmed within 30 minutes: cancelled automatically."
    assert gateway.intents[str(payment.gateway_intent_id)]["status"] == "canceled"
    assert _cancels(gateway, payment.gateway_intent_id) == 1
    freed = await _invoice(billing_client, invoice["id"], clerk)
    assert (freed["status"], freed["pending_minor"]) == ("issued", 0)
    async with billing_sessions() as session:
        entries = (
            await session.scalars(select(AuditEvent).where(AuditEvent.resource_id == str(payment_id)))
        ).all()
    assert [(e.action, e.actor_id) for e in entries if e.action == "settle"] == [("settle", SYSTEM_USER_ID)]

    again = await pay(
        billing_client, patient.headers, invoice["id"], 10_000, method="card", payment_method=VISA
    )
    assert again.json()["status"] == "succeeded"
    assert (await _invoice(billing_client, invoice["id"], clerk))["status"] == "paid"


async def test_a_payment_that_succeeded_at_the_gateway_meanwhile_is_recorded_not_cancelled(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    _, invoice, payment_id = await _abandoned(billing_client, billing_sessions, people, clerk)
    intent_id = str((await _payment(billing_sessions, payment_id)).gateway_intent_id)
    gateway.intents[intent_id]["status"] = "succeeded"  # confirmed in the browser; the webhook was lost
    await run_payment_expiry(resources, now=utc_now())

    assert (await _payment(billing_sessions, payment_id)).status is PaymentStatus.SUCCEEDED
    assert _cancels(gateway, intent_id) == 0
    paid = await _invoice(billing_client, invoice["id"], clerk)
    assert (paid["status"], paid["paid_minor"], paid["pending_minor"]) == ("paid", 10_000, 0)


async def test_a_payment_younger_than_the_expiry_is_left_alone(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    _, invoice, payment_id = await _abandoned(billing_client, billing_sessions, people, clerk, age=None)
    await run_payment_expiry(resources, now=utc_now())

    payment = await _payment(billing_sessions, payment_id)
    assert payment.status is PaymentStatus.PENDING
    assert ("GET", f"/v1/payment_intents/{payment.gateway_intent_id}") not in gateway.calls
    assert (await _invoice(billing_client, invoice["id"], clerk))["pending_minor"] == 10_000


async def test_an_unreachable_gateway_leaves_the_payment_pending_for_the_next_pass(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
    refusing_url: str,
) -> None:
    # The oldest pending payment of the database, so that the pass tries this one first.
    _, invoice, payment_id = await _abandoned(
        billing_client, billing_sessions, people, clerk, age=timedelta(days=3650)
    )
    away = StripeStyleGateway(base_url=refusing_url, secret_key=gateway.secret_key, timeout_s=5)
    tally = await settle_abandoned_payments(
        sessions=billing_sessions, gateway=away, expiry_s=EXPIRY_S, now=utc_now()
    )
    assert tally["left"] == 1 and tally["cancelled"] == 0
    assert (await _payment(billing_sessions, payment_id)).status is PaymentStatus.PENDING
    assert (await _invoice(billing_client, invoice["id"], clerk))["pending_minor"] == 10_000

    await run_payment_expiry(resources, now=utc_now())  # the gateway is back
    assert (await _payment(billing_sessions, payment_id)).status is PaymentStatus.FAILED


async def test_a_payment_without_a_gateway_answer_is_released_after_the_expiry(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    gateway.lose_next_answer = True  # the intent is created, but we never learn its id
    _, invoice, payment_id = await _abandoned(billing_client, billing_sessions, people, clerk)
    assert (await _payment(billing_sessions, payment_id)).gateway_intent_id is None
    await run_payment_expiry(resources, now=utc_now())

    payment = await _payment(billing_sessions, payment_id)
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason is not None and "answer never reached us" in payment.failure_reason
    assert (await _invoice(billing_client, invoice["id"], clerk))["pending_minor"] == 0


async def test_two_workers_at_once_settle_each_payment_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    payment_ids = [(await _abandoned(billing_client, billing_sessions, people, clerk))[2] for _ in range(4)]
    tallies = await asyncio.gather(*(run_payment_expiry(resources, now=utc_now()) for _ in range(2)))
    assert sum(t["cancelled"] for t in tallies) >= len(payment_ids)

    for payment_id in payment_ids:
        payment = await _payment(billing_sessions, payment_id)
        assert payment.status is PaymentStatus.FAILED
        assert _cancels(gateway, payment.gateway_intent_id) == 1
        assert gateway.calls.count(("GET", f"/v1/payment_intents/{payment.gateway_intent_id}")) == 1
    async with billing_sessions() as session:
        settled = (
            await session.scalars(
                select(AuditEvent.resource_id).where(
                    AuditEvent.action == "settle", AuditEvent.resource_id.in_([str(p) for p in payment_ids])
                )
            )
        ).all()
    assert sorted(str(r) for r in settled) == sorted(str(p) for p in payment_ids)
