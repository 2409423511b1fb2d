"""The whole path over HTTP: a finished consultation, its charges, an invoice, a card payment
confirmed in the browser and settled by the gateway's webhook, and the patient's history."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.payments.test_gateway import GatewayState
from core.principal import Role
from tests.billing.builders import API, BILLING, FeeSchedule, add_service, call, pay
from tests.clinical.encounter_builders import People, walk_in


async def test_from_consultation_to_paid_invoice(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
    gateway: GatewayState,
    fee_schedule: FeeSchedule,
) -> None:
    clinician, patient = await people.staff(Role.CLINICIAN), await people.patient()
    encounter = await walk_in(billing_client, clinician, patient.patient_id, reason="Follow-up")
    await call(billing_client.post(f"{API}/encounters/{encounter['id']}/finish", headers=clinician.headers))
    procedure = await add_service(billing_sessions, amount_minor=3_300, tax_rate_bp=1_000)
    charged = await call(
        billing_client.post(
            f"{BILLING}/encounters/{encounter['id']}/charges",
            json={"procedures": [{"code": procedure}]},
            headers=clinician.headers,
        ),
        201,
    )
    assert sorted(c["code"] for c in charged["created"]) == sorted(
        ["CONS-S", procedure]
    )  # a minutes-long visit

    draft = await call(
        billing_client.post(
            f"{BILLING}/invoices", json={"patient_id": str(patient.patient_id)}, headers=clerk
        ),
        201,
    )
    invoice = await call(billing_client.post(f"{BILLING}/invoices/{draft['id']}/issue", headers=clerk))
    assert invoice["total_minor"] == 3_000 + 3_300 + 330

    history = await call(billing_client.get(f"{BILLING}/invoices", headers=patient.headers))
    assert [i["id"] for i in history["items"]] == [invoice["id"]]
    pdf = await billing_client.get(f"{BILLING}/invoices/{invoice['id']}/pdf", headers=patient.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    started = await pay(billing_client, patient.headers, invoice["id"], invoice["total_minor"], method="card")
    payment = started.json()
    assert payment["status"] == "pending" and payment["gateway_client_secret"]
    confirmed = {**gateway.intents[payment["gateway_intent_id"]], "status": "succeeded"}
    body, headers = gateway.signed_event("payment_intent.succeeded", confirmed)
    await call(billing_client.post(f"{BILLING}/gateway/webhook", content=body, headers=headers))

    paid = await call(billing_client.get(f"{BILLING}/invoices/{invoice['id']}", headers=patient.headers))
    assert (paid["status"], paid["balance_minor"]) == ("paid", 0)
