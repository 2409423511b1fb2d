"""Card payments through the Stripe-style gateway stand-in: charged once, declines, lost answers,
client-confirmed intents settled by the signed webhook, and webhooks that must be refused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.test_gateway import DECLINED_CARD, GatewayState
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
VISA = "pm_card_visa"


async def _patient_invoice(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    amount_minor: int = 10_000,
) -> tuple[PatientAccount, dict[str, Any]]:
    patient = await people.patient()
    await charge(client, clerk, patient.patient_id, await add_service(sessions, amount_minor=amount_minor))
    return patient, await issued_invoice(client, clerk, patient.patient_id)


async def _invoice(client: httpx.AsyncClient, invoice_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return await call(client.get(f"{BILLING}/invoices/{invoice_id}", headers=headers))


async def test_a_patient_pays_by_card_once_however_often_the_request_is_sent(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    url = f"{BILLING}/invoices/{invoice['id']}/payments"
    body = {"method": "card", "amount_minor": 10_000, "currency": CURRENCY, "payment_method": VISA}
    headers = idempotent(patient.headers)
    answers = await asyncio.gather(*(billing_client.post(url, json=body, headers=headers) for _ in range(3)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    payment = answers[0].json()
    assert all(a.json()["id"] == payment["id"] for a in answers)
    assert payment["status"] == "succeeded" and payment["gateway_intent_id"].startswith("pi_")
    assert len(gateway.intents_for(payment["id"])) == 1
    assert (await _invoice(billing_client, invoice["id"], patient.headers))["status"] == "paid"


async def test_a_declined_card_releases_the_invoice(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    declined = await pay(
        billing_client, patient.headers, invoice["id"], 10_000, method="card", payment_method=DECLINED_CARD
    )
    assert declined.status_code == 201
    assert (declined.json()["status"], declined.json()["failure_reason"]) == (
        "failed",
        "Your card was declined.",
    )
    after = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (after["status"], after["paid_minor"], after["pending_minor"]) == ("issued", 0, 0)
    retry = await pay(
        billing_client, patient.headers, invoice["id"], 10_000, method="card", payment_method=VISA
    )
    assert retry.json()["status"] == "succeeded"


async def test_a_lost_gateway_answer_is_retried_without_charging_twice(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    url = f"{BILLING}/invoices/{invoice['id']}/payments"
    body = {"method": "card", "amount_minor": 7_000, "currency": CURRENCY, "payment_method": VISA}
    headers = idempotent(patient.headers)
    gateway.lose_next_answer = True
    lost = await billing_client.post(url, json=body, headers=headers)
    assert lost.status_code == 503 and lost.json()["code"] == "payment-gateway-unavailable"
    held = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (held["paid_minor"], held["pending_minor"]) == (0, 7_000)  # reserved: no one can overpay meanwhile
    assert (await pay(billing_client, clerk, invoice["id"], 3_001)).status_code == 409

    retried = await billing_client.post(url, json=body, headers=headers)
    assert retried.status_code == 201 and retried.json()["status"] == "succeeded"
    assert retried.json()["id"] == lost.json()["payment_id"]
    assert len(gateway.intents_for(retried.json()["id"])) == 1
    done = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (done["status"], done["paid_minor"], done["pending_minor"]) == ("partially_paid", 7_000, 0)


async def test_the_signed_webhook_settles_a_payment_confirmed_in_the_browser(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    started = await pay(billing_client, patient.headers, invoice["id"], 10_000, method="card")
    payment = started.json()
    assert (started.status_code, payment["status"]) == (201, "pending")
    assert payment["gateway_client_secret"].startswith(payment["gateway_intent_id"])

    intent = {**gateway.intents[payment["gateway_intent_id"]], "status": "succeeded"}
    body, headers = gateway.signed_event("payment_intent.succeeded", intent)
    assert (await call(billing_client.post(WEBHOOK, content=body, headers=headers))) == {"result": "settled"}
    assert (await call(billing_client.post(WEBHOOK, content=body, headers=headers))) == {
        "result": "duplicate"
    }
    paid = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (paid["status"], paid["paid_minor"], paid["pending_minor"]) == ("paid", 10_000, 0)


async def test_webhooks_with_bad_signatures_change_nothing(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    payment = (await pay(billing_client, patient.headers, invoice["id"], 10_000, method="card")).json()
    intent = {**gateway.intents[payment["gateway_intent_id"]], "status": "succeeded"}
    forged = gateway.signed_event("payment_intent.succeeded", intent, secret="whsec_not_ours")
    stale = gateway.signed_event("payment_intent.succeeded", intent, timestamp=int(time.time()) - 3_600)
    body, headers = gateway.signed_event("payment_intent.succeeded", intent)
    tampered = (body.replace(b'"succeeded"', b'"succeeded" '), headers)
    unsigned = (body, {"Content-Type": "application/json"})
    for event_body, event_headers in (forged, stale, tampered, unsigned):
        answer = await billing_client.post(WEBHOOK, content=event_body, headers=event_headers)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "bad-webhook-signature"
    held = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (held["status"], held["paid_minor"], held["pending_minor"]) == ("issued", 0, 10_000)


async def test_the_webhook_settles_a_payment_whose_gateway_answer_was_lost(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    gateway.lose_next_answer = True
    lost = await pay(
        billing_client, patient.headers, invoice["id"], 10_000, method="card", payment_method=VISA
    )
    assert lost.status_code == 503
    (intent,) = gateway.intents_for(lost.json()["payment_id"])  # charged at the gateway; we never heard
    body, headers = gateway.signed_event("payment_intent.succeeded", intent)
    assert (await call(billing_client.post(WEBHOOK, content=body, headers=headers))) == {"result": "settled"}
    paid = await _invoice(billing_client, invoice["id"], patient.headers)
    assert (paid["status"], paid["paid_minor"], paid["pending_minor"]) == ("paid", 10_000, 0)
    listed = await call(
        billing_client.get(f"{BILLING}/invoices/{invoice['id']}/payments", headers=patient.headers)
    )
    assert [(p["status"], p["gateway_intent_id"]) for p in listed["payments"]] == [
        ("succeeded", intent["id"])
    ]


async def test_an_abandoned_card_payment_is_cancelled_to_free_the_balance(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _patient_invoice(billing_client, billing_sessions, people, clerk)
    stranger = await people.patient()
    payment = (await pay(billing_client, patient.headers, invoice["id"], 10_000, method="card")).json()
    url = f"{BILLING}/payments/{payment['id']}/cancel"
    assert (await billing_client.post(url, headers=stranger.headers)).status_code == 403
    cancelled = await call(billing_client.post(url, headers=patient.headers))
    assert cancelled["status"] == "failed"
    assert gateway.intents[payment["gateway_intent_id"]]["status"] == "canceled"
    freed = await _invoice(billing_client, invoice["id"], clerk)
    assert (freed["status"], freed["pending_minor"]) == ("issued", 0)
    again = await billing_client.post(url, headers=clerk)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

    settled = (
        await pay(billing_client, patient.headers, invoice["id"], 10_000, method="card", payment_method=VISA)
    ).json()
    too_late = await billing_client.post(f"{BILLING}/payments/{settled['id']}/cancel", headers=clerk)
    assert too_late.status_code == 409
    assert (await _invoice(billing_client, invoice["id"], clerk))["status"] == "paid"
