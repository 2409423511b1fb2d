"""Charges on a claim awaiting the payer are not invoiced to the patient until the payer has decided."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from core.settings import Settings
from tests.billing.insurance_builders import API, claim, coverage, finished_visit, patient_with_address, payer
from tests.clinical.encounter_builders import People


@pytest.fixture
def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions, settings)


async def test_a_draft_invoice_leaves_out_claimed_charges_and_refuses_them_by_name(
    client: httpx.AsyncClient, people: People, sessions
) -> None:
    clerk = (await people.staff(Role.BILLING)).headers
    patient_id = await patient_with_address(sessions)
    visit = await finished_visit(people, patient_id=patient_id)
    plan = await coverage(client, clerk, patient_id, (await payer(client, clerk))["id"])
    await claim(client, clerk, visit, plan["id"])

    whole = await client.post(f"{API}/billing/invoices", json={"patient_id": str(patient_id)}, headers=clerk)
    assert whole.status_code == 422, whole.text
    assert "no uninvoiced charges" in whole.json()["detail"]

    body = {"patient_id": str(patient_id), "charge_ids": [str(visit.charge_ids[0])]}
    named = await client.post(f"{API}/billing/invoices", json=body, headers=clerk)
    assert named.status_code == 409, named.text
    assert "awaiting the payer" in named.json()["detail"]
