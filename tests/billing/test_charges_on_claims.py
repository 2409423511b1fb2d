"""A charge on an insurance claim is neither changed nor deleted under it (once a 500 and a stale total)."""

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


async def test_a_draft_claims_charge_waits_for_the_draft_to_be_discarded(
    client: httpx.AsyncClient, people: People, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clerk = (await people.staff(Role.BILLING)).headers
    patient_id = await patient_with_address(sessions)
    visit = await finished_visit(people, patient_id=patient_id)
    plan = await coverage(client, clerk, patient_id, (await payer(client, clerk))["id"])
    draft = await claim(client, clerk, visit, plan["id"])
    charge_url = f"{API}/billing/charges/{visit.charge_ids[0]}"

    response = await client.delete(charge_url, headers=clerk)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "charge-on-claim"
    assert draft["number"] in response.json()["detail"] and "discard the draft" in response.json()["detail"]
    response = await client.patch(charge_url, json={"unit_price_minor": 1}, headers=clerk)
    assert response.status_code == 409 and response.json()["code"] == "charge-on-claim"
    unchanged = await client.get(f"{API}/insurance/claims/{draft['id']}", headers=clerk)
    assert unchanged.json()["total_minor"] == draft["total_minor"]

    assert (await client.delete(f"{API}/insurance/claims/{draft['id']}", headers=clerk)).status_code == 204
    response = await client.patch(charge_url, json={"unit_price_minor": 9900}, headers=clerk)
    assert response.status_code == 200, response.text
    redrafted = await claim(client, clerk, visit, plan["id"])
    assert redrafted["total_minor"] == 9900 + 2 * 1500
