"""Insurance refusals: roles (401/403, audited), bad claims and adjudications, coverage clashes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.insurance.holds import held_charge_ids
from billing.invoices.models import Invoice
from clinical.encounters.models import Encounter, EncounterStatus
from core.audit.models import AuditEvent
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from tests.billing.insurance_builders import API, claim, coverage, finished_visit, patient_with_address, payer
from tests.clinical.encounter_builders import People


@pytest.fixture
def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions, settings)


@pytest.fixture
async def clerk(people: People) -> dict[str, str]:
    return (await people.staff(Role.BILLING)).headers


@pytest.fixture
async def drafted(client: httpx.AsyncClient, people: People, clerk: dict[str, str], sessions) -> dict:
    patient_id = await patient_with_address(sessions)
    visit = await finished_visit(people, patient_id=patient_id)
    plan = await coverage(client, clerk, patient_id, (await payer(client, clerk))["id"])
    return {"claim": await claim(client, clerk, visit, plan["id"]), "visit": visit, "coverage": plan}


def _requests(drafted: dict) -> list[tuple[str, str, dict | None]]:
    claim_url = f"{API}/insurance/claims/{drafted['claim']['id']}"
    patient = drafted["visit"].patient_id
    return [
        ("GET", f"{API}/insurance/payers", None),
        ("POST", f"{API}/insurance/payers", {"name": "Evil Payer", "electronic_id": "EVIL1"}),
        ("GET", f"{API}/patients/{patient}/coverages", None),
        ("POST", f"{API}/insurance/coverages/{drafted['coverage']['id']}/cancel", None),
        ("GET", f"{API}/insurance/claims", None),
        ("GET", claim_url, None),
        ("GET", f"{claim_url}/fhir", None),
        ("POST", f"{claim_url}/submit", None),
        ("DELETE", claim_url, None),
        ("POST", f"{API}/insurance/claims", {"encounter_id": str(drafted["visit"].encounter_id),
                                            "coverage_id": drafted["coverage"]["id"]}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CLINICIAN, Role.NURSE])
async def test_only_billing_staff_and_administrators_reach_insurance(
    client: httpx.AsyncClient, people: People, drafted: dict, sessions, role: Role
) -> None:
    if role is Role.PATIENT:
        # Even the claim's own patient: claims are the hospital's correspondence with the payer.
        account = await people.patient()
        headers = account.headers
    else:
        headers = (await people.staff(role)).headers
    for method, url, body in _requests(drafted):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    async with sessions() as session:
        denied = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.outcome == "denied", AuditEvent.resource_type.in_(["claim", "payer", "coverage"])
            )
        )
    assert denied >= len(_requests(drafted))
    claim_now = await client.get(
        f"{API}/insurance/claims/{drafted['claim']['id']}", headers=await _admin(people)
    )
    assert claim_now.json()["status"] == "draft"


async def _admin(people: People) -> dict[str, str]:
    return (await people.staff(Role.ADMIN)).headers


async def test_without_a_token_the_answer_is_401(client: httpx.AsyncClient, drafted: dict) -> None:
    for method, url, body in _requests(drafted):
        response = await client.request(method, url, json=body)
        assert response.status_code == 401, (method, url)


async def test_administrators_manage_claims_too(
    client: httpx.AsyncClient, people: People, drafted: dict
) -> None:
    response = await client.post(
        f"{API}/insurance/claims/{drafted['claim']['id']}/submit", headers=await _admin(people)
    )
    assert response.status_code == 200 and response.json()["status"] == "submitted"


async def test_bad_adjudications_are_refused_and_change_nothing(
    client: httpx.AsyncClient, clerk: dict[str, str], drafted: dict, sessions
) -> None:
    url = f"{API}/insurance/claims/{drafted['claim']['id']}"
    first, second = (line["id"] for line in drafted["claim"]["lines"])
    early = await client.post(f"{url}/adjudication", json={"lines": [_line(first, 1, 1, 0)]}, headers=clerk)
    assert early.status_code == 409 and "draft" in early.json()["detail"]
    await client.post(f"{url}/submit", headers=clerk)
    cases = [
        ([_line(first, 12551, 0, 0), _line(second, 0, 0, 0)], "exceeds the charge"),
        ([_line(first, 5000, 6000, 0), _line(second, 0, 0, 0)], "more than it allows"),
        ([_line(first, 12550, 12550, 1), _line(second, 0, 0, 0)], "exceeds the charge"),
        ([_line(first, 100, 100, 0)], "each line of the claim"),
        ([_line(first, 100, 100, 0), _line(first, 100, 100, 0)], "each line of the claim"),
        ([_line(first, 100, 100, 0), _line(str(uuid.uuid4()), 0, 0, 0)], "each line of the claim"),
        ([_line(first, -1, 0, 0), _line(second, 0, 0, 0)], "greater than or equal to 0"),
    ]
    for lines, message in cases:
        response = await client.post(f"{url}/adjudication", json={"lines": lines}, headers=clerk)
        assert response.status_code == 422, response.text
        assert message in response.text
    after = (await client.get(url, headers=clerk)).json()
    assert after["status"] == "submitted" and after["paid_minor"] == 0 and after["patient_invoice_id"] is None
    async with sessions() as session:
        invoices = await session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.patient_id == drafted["visit"].patient_id)
        )
    assert invoices == 0


def _line(line_id: str, allowed: int, paid: int, patient: int) -> dict:
    return {
        "line_id": line_id,
        "allowed_minor": allowed,
        "paid_minor": paid,
        "patient_responsibility_minor": patient,
    }


async def test_claims_need_a_finished_diagnosed_charged_covered_encounter(
    client: httpx.AsyncClient, people: People, clerk: dict[str, str], drafted: dict, sessions
) -> None:
    visit, plan = drafted["visit"], drafted["coverage"]

    async def attempt(encounter_id: uuid.UUID, coverage_id: str) -> httpx.Response:
        body = {"encounter_id": str(encounter_id), "coverage_id": coverage_id}
        return await client.post(f"{API}/insurance/claims", json=body, headers=clerk)

    twice = await attempt(visit.encounter_id, plan["id"])
    assert twice.status_code == 409 and "already claimed" in twice.json()["detail"]
    undiagnosed = await finished_visit(people, patient_id=visit.patient_id, diagnoses=())
    assert "diagnosis" in (await attempt(undiagnosed.encounter_id, plan["id"])).json()["detail"]
    uncharged = await finished_visit(people, patient_id=visit.patient_id, charges=())
    assert "no charges" in (await attempt(uncharged.encounter_id, plan["id"])).json()["detail"]
    last_year = await finished_visit(
        people, patient_id=visit.patient_id, started_at=datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    )
    outside = await attempt(last_year.encounter_id, plan["id"])
    assert outside.status_code == 422 and "2025-06-01" in outside.json()["detail"]
    other = await finished_visit(people, patient_id=await patient_with_address(sessions))
    assert "no coverage" in (await attempt(other.encounter_id, plan["id"])).json()["detail"]
    open_visit = await finished_visit(people, patient_id=visit.patient_id)
    async with transaction(sessions) as session:
        encounter = await session.get(Encounter, open_visit.encounter_id)
        assert encounter is not None
        encounter.status, encounter.ended_at = EncounterStatus.IN_PROGRESS, None
    assert "finished" in (await attempt(open_visit.encounter_id, plan["id"])).json()["detail"]
    missing = await attempt(uuid.uuid4(), plan["id"])
    assert missing.status_code == 404


async def test_a_draft_holds_its_charges_until_discarded_and_only_a_draft_is_discarded(
    client: httpx.AsyncClient, clerk: dict[str, str], drafted: dict, sessions
) -> None:
    visit, url = drafted["visit"], f"{API}/insurance/claims/{drafted['claim']['id']}"
    async with sessions() as session:
        assert await held_charge_ids(session, patient_id=visit.patient_id) == set(visit.charge_ids)
    assert (await client.delete(url, headers=clerk)).status_code == 204
    assert (await client.get(url, headers=clerk)).status_code == 404
    async with sessions() as session:
        assert await held_charge_ids(session, patient_id=visit.patient_id) == set()
    again = await claim(client, clerk, visit, drafted["coverage"]["id"])
    await client.post(f"{API}/insurance/claims/{again['id']}/submit", headers=clerk)
    refused = await client.delete(f"{API}/insurance/claims/{again['id']}", headers=clerk)
    assert refused.status_code == 409 and "draft" in refused.json()["detail"]


async def test_one_active_coverage_per_rank_at_a_time(
    client: httpx.AsyncClient, clerk: dict[str, str], sessions
) -> None:
    patient_id = await patient_with_address(sessions)
    acme = await payer(client, clerk)
    first = await coverage(client, clerk, patient_id, acme["id"])
    url = f"{API}/patients/{patient_id}/coverages"
    body = {"payer_id": acme["id"], "member_id": "M2", "plan_name": "Other", "period_start": "2026-06-01"}
    clash = await client.post(url, json=body, headers=clerk)
    assert clash.status_code == 409 and clash.json()["code"] == "coverage-conflict"
    secondary = await client.post(url, json={**body, "priority": 2}, headers=clerk)
    assert secondary.status_code == 201
    dependant = await client.post(url, json={**body, "priority": 3, "relationship": "child"}, headers=clerk)
    assert dependant.status_code == 422 and "subscriber" in dependant.text
    cancelled = await client.post(f"{API}/insurance/coverages/{first['id']}/cancel", headers=clerk)
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.post(url, json=body, headers=clerk)).status_code == 201
    listed = (await client.get(url, headers=clerk)).json()
    assert [(row["priority"], row["status"]) for row in listed] == [
        (1, "cancelled"),
        (1, "active"),
        (2, "active"),
    ]


async def test_claims_list_filters_and_pages(
    client: httpx.AsyncClient, people: People, clerk: dict[str, str], drafted: dict
) -> None:
    visit, plan = drafted["visit"], drafted["coverage"]
    more = [drafted["claim"]]
    for _ in range(2):
        extra = await finished_visit(people, patient_id=visit.patient_id)
        more.append(await claim(client, clerk, extra, plan["id"]))
    await client.post(f"{API}/insurance/claims/{more[0]['id']}/submit", headers=clerk)
    query: dict[str, str | int] = {"patient_id": str(visit.patient_id), "limit": 2}
    page = (await client.get(f"{API}/insurance/claims", params=query, headers=clerk)).json()
    rest = (
        await client.get(
            f"{API}/insurance/claims", params={**query, "cursor": page["next_cursor"]}, headers=clerk
        )
    ).json()
    assert [c["id"] for c in page["items"] + rest["items"]] == [c["id"] for c in reversed(more)]
    assert rest["next_cursor"] is None
    submitted = (
        await client.get(f"{API}/insurance/claims", params={**query, "status": "submitted"}, headers=clerk)
    ).json()
    assert [c["id"] for c in submitted["items"]] == [more[0]["id"]]


async def test_simultaneous_adjudications_bill_the_patient_once(
    client: httpx.AsyncClient, clerk: dict[str, str], drafted: dict, sessions
) -> None:
    url = f"{API}/insurance/claims/{drafted['claim']['id']}"
    await client.post(f"{url}/submit", headers=clerk)
    first, second = (line["id"] for line in drafted["claim"]["lines"])
    body = {"lines": [_line(first, 10000, 8000, 2000), _line(second, 3000, 3000, 0)]}
    answers = await asyncio.gather(
        *(client.post(f"{url}/adjudication", json=body, headers=clerk) for _ in range(3))
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409]
    async with sessions() as session:
        invoices = list(
            await session.scalars(select(Invoice).where(Invoice.patient_id == drafted["visit"].patient_id))
        )
    assert [invoice.total_minor for invoice in invoices] == [2000]
