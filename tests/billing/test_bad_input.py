"""Bad input: each refused with a clear problem+json, and nothing changes (checked underneath)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.models import Payment
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

PROBLEM = "application/problem+json"


async def _state(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    clerk: dict[str, str],
    invoice_id: str,
) -> tuple[dict[str, Any], int]:
    invoice = await call(client.get(f"{BILLING}/invoices/{invoice_id}", headers=clerk))
    async with sessions() as session:
        count = await session.scalar(select(func.count()).where(Payment.invoice_id == invoice_id)) or 0
    return invoice, count


def _refused(answer: httpx.Response, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == status and problem["detail"]
    if code is not None:
        assert problem["code"] == code, problem


async def test_bad_payments_are_refused_and_change_nothing(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient, stranger = await people.patient(), await people.patient()
    await charge(
        billing_client, clerk, patient.patient_id, await add_service(billing_sessions, amount_minor=5_000)
    )
    invoice = await issued_invoice(billing_client, clerk, patient.patient_id)
    before = await _state(billing_client, billing_sessions, clerk, invoice["id"])
    url = f"{BILLING}/invoices/{invoice['id']}/payments"

    _refused(await pay(billing_client, clerk, invoice["id"], -500), 422)
    _refused(await pay(billing_client, clerk, invoice["id"], 0), 422)
    floating = {"method": "cash", "amount_minor": 49.99, "currency": CURRENCY}
    _refused(await billing_client.post(url, json=floating, headers=idempotent(clerk)), 422)
    _refused(
        await billing_client.post(url, json={**floating, "amount_minor": "4999"}, headers=idempotent(clerk)),
        422,
    )
    _refused(await pay(billing_client, clerk, invoice["id"], 1_000, currency="USD"), 422, "currency-mismatch")
    _refused(await pay(billing_client, clerk, invoice["id"], 5_001), 409, "overpayment")
    _refused(await pay(billing_client, patient.headers, invoice["id"], 1_000, method="cash"), 403)
    _refused(await pay(billing_client, stranger.headers, invoice["id"], 1_000, method="card"), 403)
    _refused(await pay(billing_client, await people.headers_of(Role.CLINICIAN), invoice["id"], 1_000), 403)
    _refused(await pay(billing_client, {}, invoice["id"], 1_000), 401)
    assert await _state(billing_client, billing_sessions, clerk, invoice["id"]) == before


async def test_void_and_draft_invoices_cannot_be_paid(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient = await people.patient()
    code = await add_service(billing_sessions, amount_minor=5_000)
    await charge(billing_client, clerk, patient.patient_id, code)
    invoice = await issued_invoice(billing_client, clerk, patient.patient_id)
    await call(
        billing_client.post(
            f"{BILLING}/invoices/{invoice['id']}/void", json={"reason": "error"}, headers=clerk
        )
    )
    void_before = await _state(billing_client, billing_sessions, clerk, invoice["id"])
    _refused(await pay(billing_client, clerk, invoice["id"], 1_000), 409, "invoice-not-payable")
    _refused(
        await pay(billing_client, patient.headers, invoice["id"], 1_000, method="card"),
        409,
        "invoice-not-payable",
    )
    assert await _state(billing_client, billing_sessions, clerk, invoice["id"]) == void_before

    draft = await call(
        billing_client.post(
            f"{BILLING}/invoices", json={"patient_id": str(patient.patient_id)}, headers=clerk
        ),
        201,
    )
    _refused(await pay(billing_client, clerk, draft["id"], 1_000), 409, "invoice-not-payable")
    _refused(await pay(billing_client, patient.headers, draft["id"], 1_000, method="card"), 404)


async def test_issued_invoices_are_not_edited(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient_id = await people.patient_record()
    code = await add_service(billing_sessions, amount_minor=5_000)
    await charge(billing_client, clerk, patient_id, code)
    invoice = await issued_invoice(billing_client, clerk, patient_id)
    extra = await charge(billing_client, clerk, patient_id, code)
    before = await _state(billing_client, billing_sessions, clerk, invoice["id"])
    url = f"{BILLING}/invoices/{invoice['id']}"
    line = invoice["lines"][0]["id"]
    _refused(
        await billing_client.patch(url, json={"note": "changed"}, headers=clerk), 409, "invoice-not-editable"
    )
    _refused(
        await billing_client.patch(url, json={"add_charge_ids": [extra["id"]]}, headers=clerk),
        409,
        "invoice-not-editable",
    )
    _refused(
        await billing_client.patch(f"{url}/lines/{line}", json={"quantity": 2}, headers=clerk),
        409,
        "invoice-not-editable",
    )
    _refused(await billing_client.delete(f"{url}/lines/{line}", headers=clerk), 409, "invoice-not-editable")
    _refused(await billing_client.delete(url, headers=clerk), 409, "invoice-not-editable")
    _refused(await billing_client.post(f"{url}/issue", headers=clerk), 409, "invoice-not-editable")
    assert await _state(billing_client, billing_sessions, clerk, invoice["id"]) == before
    free = await call(
        billing_client.get(
            f"{BILLING}/charges", params={"patient_id": str(patient_id), "uninvoiced": True}, headers=clerk
        )
    )
    assert [c["id"] for c in free["items"]] == [extra["id"]]


async def test_a_discount_larger_than_the_line_is_refused(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient_id = await people.patient_record()
    await charge(billing_client, clerk, patient_id, await add_service(billing_sessions, amount_minor=1_000))
    draft = await call(
        billing_client.post(f"{BILLING}/invoices", json={"patient_id": str(patient_id)}, headers=clerk), 201
    )
    line_url = f"{BILLING}/invoices/{draft['id']}/lines/{draft['lines'][0]['id']}"
    _refused(await billing_client.patch(line_url, json={"discount_minor": 1_001}, headers=clerk), 422)
    _refused(await billing_client.patch(line_url, json={"discount_minor": -1}, headers=clerk), 422)
    after = await call(billing_client.get(f"{BILLING}/invoices/{draft['id']}", headers=clerk))
    assert (after["discount_minor"], after["total_minor"]) == (0, 1_000)
