"""Claims through the API on the real PostgreSQL: from a finished encounter to a settled claim."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.charges.models import ChargeItem
from billing.invoices.models import Invoice
from clinical.patients.models import Patient
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.billing.insurance_builders import (
    API,
    claim,
    coverage,
    finished_visit,
    patient_with_address,
    payer,
)
from tests.billing.insurance_documents import assert_valid_837p, segments, transaction_sets
from tests.clinical.encounter_builders import People
from tests.fhir.conftest import assert_no_empty_values

PROVIDER_ENV = {
    "OWNAT_BILLING_PROVIDER_NAME": "Springfield General",
    "OWNAT_BILLING_PROVIDER_NPI": "1234567893",
    "OWNAT_BILLING_PROVIDER_TAX_ID": "12-3456789",
    "OWNAT_BILLING_PROVIDER_ADDRESS_LINE1": "1 Hospital Way",
    "OWNAT_BILLING_PROVIDER_CITY": "Springfield",
    "OWNAT_BILLING_PROVIDER_REGION": "IL",
    "OWNAT_BILLING_PROVIDER_POSTAL_CODE": "62701-4410",
    "OWNAT_BILLING_PROVIDER_CONTACT_PHONE": "217-555-0100",
    "OWNAT_BILLING_PROVIDER_SUBMITTER_ID": "SPRINGGEN",
}


@pytest.fixture
def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions, settings)


@pytest.fixture
async def clerk(people: People) -> dict[str, str]:
    return (await people.staff(Role.BILLING)).headers


async def test_a_claim_goes_from_encounter_to_settlement_and_bills_the_patients_share(
    client: httpx.AsyncClient, people: People, clerk: dict[str, str], sessions, monkeypatch
) -> None:
    for name, value in PROVIDER_ENV.items():
        monkeypatch.setenv(name, value)
    patient_id = await patient_with_address(sessions)
    visit = await finished_visit(people, patient_id=patient_id)
    acme = await payer(client, clerk)
    plan = await coverage(client, clerk, patient_id, acme["id"])

    draft = await claim(client, clerk, visit, plan["id"])
    assert draft["status"] == "draft" and draft["control_number"] is None
    async with sessions() as session:
        patient = await session.get(Patient, patient_id)
    assert patient is not None and (draft["patient_name"], draft["patient_mrn"]) == (
        patient.display_name,
        patient.mrn,
    )
    assert draft["total_minor"] == 12550 + 2 * 1500 and draft["currency"] == "USD"
    assert [d["code"] for d in draft["diagnoses"]] == ["E11.9", "I10"]
    assert [(line["code"], line["charge_minor"], line["diagnosis_pointers"]) for line in draft["lines"]] == [
        ("99213", 12550, [1, 2]),
        ("36415", 3000, [1, 2]),
    ]
    assert draft["place_of_service"] == "02"  # a video consultation

    submitted = (await client.post(f"{API}/insurance/claims/{draft['id']}/submit", headers=clerk)).json()
    assert submitted["status"] == "submitted" and submitted["control_number"] >= 1

    x12 = await client.get(f"{API}/insurance/claims/{draft['id']}/x12", headers=clerk)
    assert x12.status_code == 200, x12.text
    assert x12.headers["content-type"].startswith("application/edi-x12")
    assert_valid_837p(x12.text)
    parsed = segments(x12.text)
    assert int(parsed[0][13]) == submitted["control_number"] == int(parsed[-1][2])
    (transaction,) = transaction_sets(parsed)
    assert transaction[-1] == ["SE", str(len(transaction)), "0001"]
    clm = next(segment for segment in transaction if segment[0] == "CLM")
    assert clm[1:3] == [draft["number"], "155.5"]
    assert next(s for s in transaction if s[:2] == ["NM1", "85"])[-1] == "1234567893"
    # The file is rebuilt, byte for byte, from what was stored at submission.
    again = await client.get(f"{API}/insurance/claims/{draft['id']}/x12", headers=clerk)
    assert again.text == x12.text

    fhir = await client.get(f"{API}/insurance/claims/{draft['id']}/fhir", headers=clerk)
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    assert '"value":155.50' in fhir.text  # exact decimals, never a float's rendering
    resource = fhir.json()
    assert_no_empty_values(resource)
    model: Any = FhirClaim.model_validate(resource)
    assert model.total.value == Decimal("155.50") and model.id == draft["id"]

    accepted = await client.post(
        f"{API}/insurance/claims/{draft['id']}/response",
        json={"accepted": True, "payer_claim_number": "PCN-1"},
        headers=clerk,
    )
    assert accepted.json()["status"] == "accepted"
    first, second = draft["lines"]
    remittance = {
        "payer_claim_number": "PCN-1",
        "lines": [
            {"line_id": first["id"], "allowed_minor": 10000, "paid_minor": 8000, "patient_responsibility_minor": 2000,
             "adjustment_reason": "45"},
            {"line_id": second["id"], "allowed_minor": 2000, "paid_minor": 2000, "patient_responsibility_minor": 0},
        ],
    }  # fmt: skip
    settled = await client.post(
        f"{API}/insurance/claims/{draft['id']}/adjudication", json=remittance, headers=clerk
    )
    assert settled.status_code == 200, settled.text
    body = settled.json()
    assert body["status"] == "partially_paid"
    assert (body["allowed_minor"], body["paid_minor"], body["patient_responsibility_minor"]) == (
        12000,
        10000,
        2000,
    )
    assert body["adjustment_minor"] == 15550 - 10000 - 2000  # written off under the payer's contract

    async with sessions() as session:
        invoice = await session.get(Invoice, uuid.UUID(body["patient_invoice_id"]))
        assert invoice is not None and invoice.patient_id == patient_id
        assert (invoice.status.value, invoice.total_minor, invoice.currency) == ("draft", 2000, "USD")
        assert [(line.code, line.total_minor) for line in invoice.lines] == [("99213", 2000), ("36415", 0)]
        charges = list(await session.scalars(select(ChargeItem).where(ChargeItem.id.in_(visit.charge_ids))))
        assert {charge.invoice_id for charge in charges} == {invoice.id}
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.resource_type == "claim", AuditEvent.patient_id == patient_id
                )
            )
        )
    assert {"create", "submit", "export", "respond", "adjudicate"} <= set(actions)


async def test_a_claim_paid_in_full_or_not_at_all(
    client: httpx.AsyncClient, people: People, clerk: dict[str, str], sessions
) -> None:
    patient_id = await patient_with_address(sessions)
    acme = await payer(client, clerk)
    plan = await coverage(client, clerk, patient_id, acme["id"])
    outcomes = []
    for paid in (True, False):
        visit = await finished_visit(people, patient_id=patient_id, charges=(("99213", 1, 10000),))
        draft = await claim(client, clerk, visit, plan["id"])
        await client.post(f"{API}/insurance/claims/{draft['id']}/submit", headers=clerk)
        amount = 10000 if paid else 0
        line = {"line_id": draft["lines"][0]["id"], "allowed_minor": amount, "paid_minor": amount,
                "patient_responsibility_minor": 0}  # fmt: skip
        response = await client.post(
            f"{API}/insurance/claims/{draft['id']}/adjudication", json={"lines": [line]}, headers=clerk
        )
        outcomes.append((response.json()["status"], response.json()["patient_invoice_id"]))
    assert outcomes == [("paid", None), ("denied", None)]


async def test_a_rejected_claim_is_denied_with_the_payers_reason(
    client: httpx.AsyncClient, people: People, clerk: dict[str, str], sessions
) -> None:
    patient_id = await patient_with_address(sessions)
    visit = await finished_visit(people, patient_id=patient_id)
    plan = await coverage(client, clerk, patient_id, (await payer(client, clerk))["id"])
    draft = await claim(client, clerk, visit, plan["id"])
    url = f"{API}/insurance/claims/{draft['id']}"
    no_reason = await client.post(f"{url}/response", json={"accepted": False}, headers=clerk)
    assert no_reason.status_code == 422
    early = await client.post(f"{url}/response", json={"accepted": False, "reason": "x"}, headers=clerk)
    assert early.status_code == 409 and "submitted" in early.json()["detail"]
    await client.post(f"{url}/submit", headers=clerk)
    denied = await client.post(
        f"{url}/response", json={"accepted": False, "reason": "Member id not found"}, headers=clerk
    )
    assert denied.json()["status"] == "denied" and denied.json()["denial_reason"] == "Member id not found"
    line = {
        "line_id": draft["lines"][0]["id"],
        "allowed_minor": 0,
        "paid_minor": 0,
        "patient_responsibility_minor": 0,
    }
    late = await client.post(f"{url}/adjudication", json={"lines": [line]}, headers=clerk)
    assert late.status_code == 409 and late.json()["code"] == "claim-state-conflict"
