"""Card payments on the gateway's hosted page, against the loopback test gateway: the patient is sent
to the page, a declined card is said there and recorded with its reason, another card pays, the
webhooks settle it; a page left unpaid is closed by a person's cancel or by the expiry job (or
counted, when it was paid and the webhook lost); and a card number is refused in any payment field,
never stored and never logged."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.expiry import run_payment_expiry
from billing.payments.models import Payment
from billing.payments.test_gateway import GatewayState
from core.audit.models import AuditEvent
from core.db import utc_now
from core.sessions import transaction
from tests.billing.builders import (
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

WEBHOOK = "/api/v1/billing/gateway/webhook"
PAN = "4242 4242 4242 4242"


async def _invoice_to_pay(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> tuple[PatientAccount, dict[str, Any]]:
    patient = await people.patient()
    await charge(client, clerk, patient.patient_id, await add_service(sessions, amount_minor=10_000))
    return patient, await issued_invoice(client, clerk, patient.patient_id)


async def _checkout(
    client: httpx.AsyncClient, patient: PatientAccount, invoice_id: str, key: str | None = None
) -> httpx.Response:
    body = {"amount_minor": 10_000, "currency": CURRENCY}
    return await client.post(
        f"{BILLING}/invoices/{invoice_id}/checkout", json=body, headers=idempotent(patient.headers, key)
    )


async def _deliver(client: httpx.AsyncClient, gateway: GatewayState) -> None:
    """Posts the webhooks the gateway has made, as it would have."""
    while gateway.events:
        event_type, obj = gateway.events.pop(0)
        body, headers = gateway.signed_event(event_type, obj)
        assert (await client.post(WEBHOOK, content=body, headers=headers)).status_code == 200


async def _pay_on_page(url: str, card: str) -> httpx.Response:
    async with httpx.AsyncClient() as browser:
        form = {"card_number": card, "expiry": "12/39", "cvc": "123", "name": "Pat Jensen"}
        return await browser.post(url, data=form)


async def _invoice(client: httpx.AsyncClient, invoice_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return await call(client.get(f"{BILLING}/invoices/{invoice_id}", headers=headers))


async def _payment(
    client: httpx.AsyncClient, invoice_id: str, payment_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    listed = await call(client.get(f"{BILLING}/invoices/{invoice_id}/payments", headers=headers))
    return next(p for p in listed["payments"] if p["id"] == payment_id)


async def test_a_declined_card_is_explained_and_another_card_pays_on_the_same_page(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _invoice_to_pay(billing_client, billing_sessions, people, clerk)
    options = await call(billing_client.get(f"{BILLING}/payment-options", headers=patient.headers))
    assert options == {"card": True, "test_mode": True}
    key = str(uuid.uuid4())
    started = await _checkout(billing_client, patient, invoice["id"], key)
    assert started.status_code == 201, started.text
    payment = started.json()
    assert payment["status"] == "pending" and payment["checkout_url"].startswith(
        gateway.public_url + "/pay/cs_test_"
    )
    # A retry (a double click, a lost answer) gets the same payment and page.
    again = await _checkout(billing_client, patient, invoice["id"], key)
    assert (again.json()["id"], again.json()["checkout_url"], again.headers["Idempotent-Replayed"]) == (
        payment["id"],
        payment["checkout_url"],
        "true",
    )
    async with httpx.AsyncClient() as browser:
        page = await browser.get(payment["checkout_url"])
    assert page.status_code == 200 and "Pay 100.00 EUR" in page.text and "Test gateway" in page.text

    declined = await _pay_on_page(payment["checkout_url"], "4000 0000 0000 0002")
    assert declined.status_code == 402 and "Your card was declined. Nothing was charged." in declined.text
    await _deliver(billing_client, gateway)
    failed = await _payment(billing_client, invoice["id"], payment["id"], patient.headers)
    assert (failed["status"], failed["failure_reason"]) == ("failed", "Your card was declined.")
    assert (await _invoice(billing_client, invoice["id"], patient.headers))["pending_minor"] == 0

    paid = await _pay_on_page(payment["checkout_url"], "4242424242424242")
    assert paid.status_code == 303
    back = urlsplit(paid.headers["location"])
    assert back.path == "/portal/billing"
    assert parse_qs(back.query) == {
        "invoice": [invoice["id"]],
        "payment": [payment["id"]],
        "checkout": ["done"],
    }
    await _deliver(billing_client, gateway)
    settled = await _payment(billing_client, invoice["id"], payment["id"], patient.headers)
    assert (settled["status"], settled["failure_reason"]) == ("succeeded", None)
    assert (await _invoice(billing_client, invoice["id"], patient.headers))["status"] == "paid"


async def test_a_page_left_unpaid_is_closed_by_cancelling_or_by_the_expiry_job(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    billing_app: FastAPI,
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    patient, invoice = await _invoice_to_pay(billing_client, billing_sessions, people, clerk)
    payment = (await _checkout(billing_client, patient, invoice["id"])).json()
    cancelled = await call(
        billing_client.post(f"{BILLING}/payments/{payment['id']}/cancel", headers=patient.headers)
    )
    assert (cancelled["status"], cancelled["failure_reason"]) == (
        "failed",
        "Cancelled before paying; nothing was charged.",
    )
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(payment["checkout_url"])).status_code == 410
    gateway.events.clear()

    # Never finished: the job closes the page. Paid but the webhook lost: the job counts it.
    abandoned = (await _checkout(billing_client, patient, invoice["id"])).json()
    async with transaction(billing_sessions) as session:
        old = utc_now() - timedelta(hours=2)
        await session.execute(
            update(Payment).where(Payment.id == uuid.UUID(abandoned["id"])).values(created_at=old)
        )
    await run_payment_expiry(billing_app.state.resources, now=utc_now())
    expired = await _payment(billing_client, invoice["id"], abandoned["id"], patient.headers)
    assert (expired["status"], expired["failure_reason"]) == (
        "failed",
        "Not confirmed within 30 minutes: cancelled automatically.",
    )

    lost = (await _checkout(billing_client, patient, invoice["id"])).json()
    assert (await _pay_on_page(lost["checkout_url"], PAN)).status_code == 303
    gateway.events.clear()  # the webhooks never arrive
    async with transaction(billing_sessions) as session:
        await session.execute(
            update(Payment).where(Payment.id == uuid.UUID(lost["id"])).values(created_at=old)
        )
    await run_payment_expiry(billing_app.state.resources, now=utc_now())
    assert (await _payment(billing_client, invoice["id"], lost["id"], patient.headers))[
        "status"
    ] == "succeeded"
    assert (await _invoice(billing_client, invoice["id"], clerk))["status"] == "paid"


@pytest.mark.parametrize(
    "field",
    [
        {"reference": f"card {PAN}"},
        {"payment_method": PAN.replace(" ", "")},
        {"note": "4242-4242-4242-4242"},
    ],
    ids=["reference", "payment_method", "unknown-field"],
)
async def test_a_card_number_in_any_payment_field_is_refused_never_stored_or_logged(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    field: dict[str, str],
) -> None:
    patient, invoice = await _invoice_to_pay(billing_client, billing_sessions, people, clerk)
    caplog.set_level(logging.DEBUG)
    refused = await pay(billing_client, patient.headers, invoice["id"], 10_000, method="card", **field)
    assert refused.status_code == 422
    assert "looks like a card number" in refused.json()["detail"]
    digits = PAN.replace(" ", "")
    assert digits[4:] not in refused.text.replace(" ", "").replace("-", "")
    assert digits[4:] not in caplog.text.replace(" ", "").replace("-", "")
    async with billing_sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(Payment.invoice_id == uuid.UUID(invoice["id"])))
            == 0
        )
        stored = await session.scalar(
            select(func.count()).where(cast(AuditEvent.detail, String).like(f"%{digits[-8:]}%"))
        )
    assert stored == 0
    # In a checkout and a refund too; a 16-digit reference that is no card number is accepted.
    checkout = {"amount_minor": 10_000, "currency": CURRENCY, "pan": PAN}
    answer = await billing_client.post(
        f"{BILLING}/invoices/{invoice['id']}/checkout", json=checkout, headers=idempotent(patient.headers)
    )
    assert answer.status_code == 422 and "card number" in answer.json()["detail"]
    cash = await pay(billing_client, clerk, invoice["id"], 10_000, reference="4242424242424241")
    assert cash.status_code == 201, cash.text
    refund = {"amount_minor": 100, "currency": CURRENCY, "reason": f"typed {PAN} by mistake"}
    answer = await billing_client.post(
        f"{BILLING}/payments/{cash.json()['id']}/refunds", json=refund, headers=idempotent(clerk)
    )
    assert answer.status_code == 422
