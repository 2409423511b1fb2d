"""Settlement by webhook: payments the gateway is still processing, failed payments, pending refunds,
and one event delivered twice at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.test_gateway import GatewayState
from tests.billing.builders import (
    API,
    BILLING,
    CURRENCY,
    add_service,
    call,
    charge,
    idempotent,
    issued_invoice,
    pay,
)
from tests.clinical.encounter_builders import PatientAccount, People

WEBHOOK = f"{API}/billing/gateway/webhook"


async def _card_payment(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> tuple[PatientAccount, dict[str, Any], dict[str, Any]]:
    patient = await people.patient()
    await charge(client, clerk, patient.patient_id, await add_service(sessions, amount_minor=8_000))
    invoice = await issued_invoice(client, clerk, patient.patient_id)
    answer = await pay(
        client, patient.headers, invoice["id"], 8_000, method="card", payment_method="pm_card_visa"
    )
    return patient, invoice, answer.json()


async def _deliver(
    client: httpx.AsyncClient, gateway: GatewayState, event_type: str, obj: dict[str, Any]
) -> str:
    body, headers = gateway.signed_event(event_type, obj)
    return (await call(client.post(WEBHOOK, content=body, headers=headers)))["result"]


async def _balance(client: httpx.AsyncClient, invoice_id: str, clerk: dict[str, str]) -> tuple[str, int, int]:
    invoice = await call(client.get(f"{BILLING}/invoices/{invoice_id}", headers=clerk))
    return invoice["status"], invoice["paid_minor"], invoice["pending_minor"]


async def test_processing_payments_and_pending_refunds_settle_by_webhook(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    gateway.settle_later = True
    _, invoice, payment = await _card_payment(billing_client, billing_sessions, people, clerk)
    assert payment["status"] == "pending"
    assert await _balance(billing_client, invoice["id"], clerk) == ("issued", 0, 8_000)
    intent = gateway.intents[payment["gateway_intent_id"]]
    intent["status"] = "succeeded"  # the gateway finishes processing, then tells us
    assert await _deliver(billing_client, gateway, "payment_intent.succeeded", intent) == "settled"
    assert await _balance(billing_client, invoice["id"], clerk) == ("paid", 8_000, 0)

    body = {"amount_minor": 3_000, "currency": CURRENCY}
    refund = await call(
        billing_client.post(
            f"{BILLING}/payments/{payment['id']}/refunds", json=body, headers=idempotent(clerk)
        ),
        201,
    )
    assert refund["status"] == "pending"
    assert await _balance(billing_client, invoice["id"], clerk) == ("paid", 8_000, 0)
    over = await billing_client.post(
        f"{BILLING}/payments/{payment['id']}/refunds",
        json={**body, "amount_minor": 5_001},
        headers=idempotent(clerk),
    )
    assert over.status_code == 409  # the pending refund is already counted against the payment
    at_gateway = {**gateway.refunds[refund["gateway_refund_id"]], "status": "succeeded"}
    assert await _deliver(billing_client, gateway, "refund.updated", at_gateway) == "settled"
    assert await _balance(billing_client, invoice["id"], clerk) == ("partially_paid", 5_000, 0)


async def test_a_failed_payment_event_releases_the_reservation(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    gateway.settle_later = True
    _, invoice, payment = await _card_payment(billing_client, billing_sessions, people, clerk)
    failed = {
        **gateway.intents[payment["gateway_intent_id"]],
        "status": "requires_payment_method",
        "last_payment_error": {"message": "Insufficient funds."},
    }
    assert await _deliver(billing_client, gateway, "payment_intent.payment_failed", failed) == "settled"
    assert await _balance(billing_client, invoice["id"], clerk) == ("issued", 0, 0)
    listed = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}/payments", headers=clerk))
    assert [(p["status"], p["failure_reason"]) for p in listed["payments"]] == [
        ("failed", "Insufficient funds.")
    ]


async def test_one_event_delivered_twice_at_once_is_applied_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    gateway.settle_later = True
    _, invoice, payment = await _card_payment(billing_client, billing_sessions, people, clerk)
    intent = {**gateway.intents[payment["gateway_intent_id"]], "status": "succeeded"}
    body, headers = gateway.signed_event("payment_intent.succeeded", intent)
    answers = await asyncio.gather(
        *(billing_client.post(WEBHOOK, content=body, headers=headers) for _ in range(3))
    )
    assert sorted(a.json()["result"] for a in answers) == ["duplicate", "duplicate", "settled"]
    assert await _balance(billing_client, invoice["id"], clerk) == ("paid", 8_000, 0)


async def test_a_declined_payment_that_later_succeeds_is_counted_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient = await people.patient()
    await charge(
        billing_client, clerk, patient.patient_id, await add_service(billing_sessions, amount_minor=8_000)
    )
    invoice = await issued_invoice(billing_client, clerk, patient.patient_id)
    declined = await pay(
        billing_client,
        patient.headers,
        invoice["id"],
        8_000,
        method="card",
        payment_method="pm_card_chargeDeclined",
    )
    assert declined.json()["status"] == "failed"
    # The patient confirms the same intent in the browser with another card; the gateway tells us.
    intent = {**gateway.intents[declined.json()["gateway_intent_id"]], "status": "succeeded"}
    assert await _deliver(billing_client, gateway, "payment_intent.succeeded", intent) == "settled"
    assert await _balance(billing_client, invoice["id"], clerk) == ("paid", 8_000, 0)
    listed = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}/payments", headers=clerk))
    assert [(p["status"], p["failure_reason"]) for p in listed["payments"]] == [("succeeded", None)]
