"""Refunds: never more than was paid, cash recorded, cards through the gateway, idempotent, roles."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.test_gateway import GatewayState
from core.principal import Role
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


async def _paid(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    headers: dict[str, str] | None = None,
    **payment: Any,
) -> tuple[dict, dict]:
    patient = await people.patient()
    await charge(client, clerk, patient.patient_id, await add_service(sessions, amount_minor=10_000))
    invoice = await issued_invoice(client, clerk, patient.patient_id)
    answer = await pay(client, headers or clerk, invoice["id"], 10_000, **payment)
    assert answer.status_code == 201, answer.text
    return invoice, answer.json()


def _refund(
    client: httpx.AsyncClient, headers: dict[str, str], payment_id: str, amount: int, key: str | None = None
):
    body = {"amount_minor": amount, "currency": CURRENCY, "reason": "duplicate visit"}
    return client.post(
        f"{BILLING}/payments/{payment_id}/refunds", json=body, headers=idempotent(headers, key)
    )


async def test_cash_refunds_reopen_the_balance_and_never_exceed_the_payment(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    invoice, payment = await _paid(billing_client, billing_sessions, people, clerk)
    refund = await call(_refund(billing_client, clerk, payment["id"], 4_000), 201)
    assert refund["status"] == "succeeded"
    after = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk))
    assert (after["status"], after["paid_minor"], after["balance_minor"]) == ("partially_paid", 6_000, 4_000)

    too_much = await _refund(billing_client, clerk, payment["id"], 6_001)
    assert too_much.status_code == 409
    assert (too_much.json()["code"], too_much.json()["refundable_minor"]) == ("refund-exceeds-paid", 6_000)
    unchanged = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk))
    assert unchanged == after
    listed = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}/payments", headers=clerk))
    assert [r["amount_minor"] for r in listed["refunds"]] == [4_000]
    assert listed["payments"][0]["refunded_minor"] == 4_000


async def test_simultaneous_refunds_never_exceed_the_payment(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    invoice, payment = await _paid(billing_client, billing_sessions, people, clerk)
    answers = await asyncio.gather(*(_refund(billing_client, clerk, payment["id"], 3_000) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 2, [a.text for a in answers]
    after = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk))
    assert after["paid_minor"] == 1_000


async def test_card_refunds_go_through_the_gateway_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
) -> None:
    invoice, payment = await _paid(
        billing_client, billing_sessions, people, clerk, method="card", payment_method="pm_card_visa"
    )
    key = "refund-key-1"
    first = await call(_refund(billing_client, clerk, payment["id"], 2_500, key), 201)
    again = await call(_refund(billing_client, clerk, payment["id"], 2_500, key), 201)
    assert first == again and first["status"] == "succeeded" and first["gateway_refund_id"].startswith("re_")
    at_gateway = [r for r in gateway.refunds.values() if r["payment_intent"] == payment["gateway_intent_id"]]
    assert [r["amount"] for r in at_gateway] == [2_500]
    after = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=clerk))
    assert (after["paid_minor"], after["status"]) == (7_500, "partially_paid")


async def test_only_managers_refund(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient = await people.patient()
    await charge(
        billing_client, clerk, patient.patient_id, await add_service(billing_sessions, amount_minor=1_000)
    )
    invoice = await issued_invoice(billing_client, clerk, patient.patient_id)
    payment = await call(pay(billing_client, clerk, invoice["id"], 1_000), 201)
    for headers in (
        patient.headers,
        await people.headers_of(Role.CLINICIAN),
        await people.headers_of(Role.NURSE),
    ):
        assert (await _refund(billing_client, headers, payment["id"], 100)).status_code == 403
    assert (
        await billing_client.post(f"{BILLING}/payments/{payment['id']}/refunds", json={})
    ).status_code == 401
    admin = await people.headers_of(Role.ADMIN)
    assert (await _refund(billing_client, admin, payment["id"], 100)).status_code == 201
