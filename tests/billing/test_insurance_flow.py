"""The whole path over HTTP on the real PostgreSQL: a finished consultation, its charges, a claim
settled by the payer, and the patient's share invoiced, issued and paid."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from core.settings import Settings
from tests.billing.insurance_builders import API, coverage, payer
from tests.builders import http_client
from tests.clinical.encounter_builders import People
from tests.conftest import AppFactory


@pytest.fixture
def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions, settings)


async def test_from_consultation_to_settled_claim_and_paid_invoice(
    app_with: AppFactory, people: People
) -> None:
    clinician = await people.staff(Role.CLINICIAN)
    clerk = (await people.staff(Role.BILLING)).headers
    patient = await people.patient()
    year = datetime.now(UTC).year
    async with app_with(currency="USD") as app, http_client(app) as client:

        async def call(
            method: str, path: str, headers: dict[str, str], status: int = 200, json: object = None
        ) -> dict[str, Any]:
            response = await client.request(method, f"{API}{path}", headers=headers, json=json)
            assert response.status_code == status, response.text
            return response.json()

        # The clinician sees the patient, records the diagnosis and finishes the consultation.
        visit = await call(
            "POST", "/encounters", clinician.headers, 201, json={"patient_id": str(patient.patient_id)}
        )
        await call(
            "POST", f"/encounters/{visit['id']}/diagnoses", clinician.headers, 201, json={"code": "E11.9"}
        )
        await call("POST", f"/encounters/{visit['id']}/finish", clinician.headers)

        # Billing prices a procedure and charges the encounter with it.
        code = f"99213-{secrets.token_hex(3).upper()}"
        service = await call(
            "POST",
            "/billing/services",
            clerk,
            201,
            json={"code": code, "kind": "procedure", "display": "Visit"},
        )
        price = {"amount_minor": 15000, "currency": "USD", "valid_from": f"{year - 1}-01-01"}
        await call("POST", f"/billing/services/{service['id']}/prices", clerk, 201, json=price)
        body = {"consultation": False, "lab_orders": False, "procedures": [{"code": code}]}
        await call("POST", f"/billing/encounters/{visit['id']}/charges", clerk, 201, json=body)

        # The claim: drafted, submitted, accepted and adjudicated.
        acme = await payer(client, clerk)
        plan = await coverage(
            client, clerk, patient.patient_id, acme["id"], period_start=f"{year - 1}-01-01", period_end=None
        )
        drafted = await call(
            "POST",
            "/insurance/claims",
            clerk,
            201,
            json={"encounter_id": visit["id"], "coverage_id": plan["id"]},
        )
        assert [(line["code"], line["charge_minor"]) for line in drafted["lines"]] == [(code, 15000)]
        assert [d["code"] for d in drafted["diagnoses"]] == ["E11.9"]
        url = f"/insurance/claims/{drafted['id']}"
        await call("POST", f"{url}/submit", clerk)
        await call("POST", f"{url}/response", clerk, json={"accepted": True})
        line = {"line_id": drafted["lines"][0]["id"], "allowed_minor": 12000, "paid_minor": 9000,
                "patient_responsibility_minor": 3000}  # fmt: skip
        settled = await call("POST", f"{url}/adjudication", clerk, json={"lines": [line]})
        assert settled["status"] == "partially_paid"
        assert (
            settled["paid_minor"] + settled["patient_responsibility_minor"] + settled["adjustment_minor"]
            == 15000
        )

        # The patient's share: issued by billing, seen by the patient, paid at the desk.
        invoice_id = settled["patient_invoice_id"]
        issued = await call("POST", f"/billing/invoices/{invoice_id}/issue", clerk)
        assert issued["status"] == "issued" and issued["total_minor"] == 3000 and issued["currency"] == "USD"
        mine = await call("GET", "/billing/invoices", patient.headers)
        assert [(i["id"], i["balance_minor"]) for i in mine["items"]] == [(invoice_id, 3000)]
        payment = {"method": "cash", "amount_minor": 3000, "currency": "USD", "reference": "DESK-1"}
        key = {"Idempotency-Key": secrets.token_hex(8)}
        first = await call(
            "POST", f"/billing/invoices/{invoice_id}/payments", {**clerk, **key}, 201, json=payment
        )
        replay = await call(
            "POST", f"/billing/invoices/{invoice_id}/payments", {**clerk, **key}, 201, json=payment
        )
        assert replay["id"] == first["id"]
        paid = await call("GET", f"/billing/invoices/{invoice_id}", patient.headers)
        assert (paid["status"], paid["paid_minor"], paid["balance_minor"]) == ("paid", 3000, 0)
        # The charge is on the patient's invoice now: a second claim of the encounter finds nothing to claim.
        other = await coverage(client, clerk, patient.patient_id, acme["id"], priority=2, period_end=None,
                               period_start=f"{year - 1}-01-01")  # fmt: skip
        again = await client.post(
            f"{API}/insurance/claims",
            json={"encounter_id": visit["id"], "coverage_id": other["id"]},
            headers=clerk,
        )
        assert again.status_code == 422 and "no charges" in again.json()["detail"]
