"""Cash and transfer payments: partial and full, idempotency keys, no overpayment even under a race."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.models import Payment
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
from tests.clinical.encounter_builders import People


async def _invoice(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    amount_minor: int,
) -> dict[str, Any]:
    patient_id = await people.patient_record()
    await charge(client, clerk, patient_id, await add_service(sessions, amount_minor=amount_minor))
    return await issued_invoice(client, clerk, patient_id)


async def _payment_count(sessions: async_sessionmaker[AsyncSession], invoice_id: str) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(Payment.invoice_id == invoice_id)) or 0


async def test_partial_payments_then_paid_and_overpayment_refused(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    invoice = await _invoice(billing_client, billing_sessions, people, clerk, 10_000)
    url = f"{BILLING}/invoices/{invoice['id']}"
    first = await pay(billing_client, clerk, invoice["id"], 4_000)
    assert first.status_code == 201 and first.json()["status"] == "succeeded"
    assert (await call(billing_client.get(url, headers=clerk)))["status"] == "partially_paid"

    too_much = await pay(
        billing_client, clerk, invoice["id"], 6_001, method="bank_transfer", reference="SEPA-1"
    )
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "overpayment" and too_much.json()["open_minor"] == 6_000
    assert (await call(billing_client.get(url, headers=clerk)))["paid_minor"] == 4_000

    rest = await pay(billing_client, clerk, invoice["id"], 6_000, method="bank_transfer", reference="SEPA-1")
    assert rest.status_code == 201
    paid = await call(billing_client.get(url, headers=clerk))
    assert (paid["status"], paid["paid_minor"], paid["balance_minor"]) == ("paid", 10_000, 0)
    listed = await call(billing_client.get(f"{url}/payments", headers=clerk))
    assert [(p["method"], p["amount_minor"]) for p in listed["payments"]] == [
        ("cash", 4_000),
        ("bank_transfer", 6_000),
    ]


async def test_a_replayed_request_returns_the_first_payment_and_pays_nothing_more(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    invoice = await _invoice(billing_client, billing_sessions, people, clerk, 10_000)
    url = f"{BILLING}/invoices/{invoice['id']}/payments"
    headers = idempotent(clerk)
    body = {"method": "cash", "amount_minor": 2_500, "currency": CURRENCY}
    first = await billing_client.post(url, json=body, headers=headers)
    replays = await asyncio.gather(*(billing_client.post(url, json=body, headers=headers) for _ in range(3)))
    assert first.status_code == 201 and first.headers["idempotent-replayed"] == "false"
    for replay in replays:
        assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == first.json()
    assert await _payment_count(billing_sessions, invoice["id"]) == 1

    changed = await billing_client.post(url, json={**body, "amount_minor": 2_600}, headers=headers)
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency-key-reused"
    missing = await billing_client.post(url, json=body, headers=clerk)
    assert missing.status_code == 422 and missing.json()["code"] == "idempotency-key-missing"
    assert await _payment_count(billing_sessions, invoice["id"]) == 1
    assert (await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk)))[
        "paid_minor"
    ] == 2_500


async def test_simultaneous_payments_never_take_an_invoice_past_its_total(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    invoice = await _invoice(billing_client, billing_sessions, people, clerk, 10_000)
    answers = await asyncio.gather(*(pay(billing_client, clerk, invoice["id"], 6_000) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    many = await asyncio.gather(*(pay(billing_client, clerk, invoice["id"], 1_000) for _ in range(8)))
    assert sorted(a.status_code for a in many) == [201] * 4 + [409] * 4
    final = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk))
    assert (final["paid_minor"], final["status"]) == (10_000, "paid")
    assert await _payment_count(billing_sessions, invoice["id"]) == 5
