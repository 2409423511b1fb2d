"""Charges from encounters: consultation by duration, procedures, lab tests; each source once; roles."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.charges.models import ChargeItem
from clinical.lab import orders
from clinical.lab.schemas import LabOrderCreate
from core.principal import Role
from core.sessions import transaction
from tests.billing.builders import API, BILLING, FeeSchedule, add_service, call, finished_encounter
from tests.clinical.encounter_builders import People


async def _charges_of(sessions: async_sessionmaker[AsyncSession], encounter_id: uuid.UUID) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(ChargeItem.encounter_id == encounter_id)) or 0


async def test_an_encounter_is_charged_by_duration_procedures_and_lab_tests_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    fee_schedule: FeeSchedule,
) -> None:
    clinician = await people.staff(Role.CLINICIAN)
    patient_id = await people.patient_record()
    encounter_id = await finished_encounter(billing_sessions, clinician, patient_id, minutes=22)
    async with transaction(billing_sessions) as session:
        principal = clinician.user.as_principal()
        await orders.create_order(
            session=session,
            actor=principal,
            new=LabOrderCreate(
                patient_id=patient_id, encounter_id=encounter_id, tests=list(fee_schedule.lab_codes)
            ),
        )
    procedure = await add_service(billing_sessions, amount_minor=4_200)
    body = {"procedures": [{"code": procedure, "quantity": 2}]}
    url = f"{BILLING}/encounters/{encounter_id}/charges"

    first = await call(billing_client.post(url, json=body, headers=clinician.headers), 201)
    by_code = {c["code"]: c for c in first["created"]}
    assert by_code["CONS-M"]["unit_price_minor"] == 5_500  # 22 minutes: the 15-30 band
    assert (by_code[procedure]["quantity"], by_code[procedure]["unit_price_minor"]) == (2, 4_200)
    for loinc, code in fee_schedule.lab_codes.items():
        assert by_code[code]["source_type"] == "lab_test", loinc
        assert by_code[code]["tax_rate_bp"] == 700
    assert all(c["currency"] == "EUR" and c["invoice_id"] is None for c in first["created"])

    again = await call(billing_client.post(url, json=body, headers=clinician.headers), 201)
    assert again["created"] == []
    assert {c["id"] for c in again["already_charged"]} == {c["id"] for c in first["created"]}
    assert await _charges_of(billing_sessions, encounter_id) == 4


async def test_concurrent_charging_of_one_encounter_charges_once(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    fee_schedule: FeeSchedule,
    clerk: dict[str, str],
) -> None:
    clinician = await people.staff(Role.CLINICIAN)
    encounter_id = await finished_encounter(
        billing_sessions, clinician, await people.patient_record(), minutes=40
    )
    url = f"{BILLING}/encounters/{encounter_id}/charges"
    answers = await asyncio.gather(*(billing_client.post(url, json={}, headers=clerk) for _ in range(4)))
    assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
    assert await _charges_of(billing_sessions, encounter_id) == 1


async def test_clinicians_charge_only_their_own_finished_encounters(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    fee_schedule: FeeSchedule,
) -> None:
    mine, other = await people.staff(Role.CLINICIAN), await people.staff(Role.CLINICIAN)
    encounter_id = await finished_encounter(billing_sessions, mine, await people.patient_record(), minutes=10)
    url = f"{BILLING}/encounters/{encounter_id}/charges"
    assert (await billing_client.post(url, json={}, headers=other.headers)).status_code == 403
    for role in (Role.NURSE, Role.PATIENT):
        assert (
            await billing_client.post(url, json={}, headers=await people.headers_of(role))
        ).status_code == 403
    assert (await billing_client.post(url, json={})).status_code == 401
    assert await _charges_of(billing_sessions, encounter_id) == 0

    walk_in = await call(
        billing_client.post(
            f"{API}/encounters", json={"patient_id": str(await people.patient_record())}, headers=mine.headers
        ),
        201,
    )
    unfinished = await billing_client.post(
        f"{BILLING}/encounters/{walk_in['id']}/charges", json={}, headers=mine.headers
    )
    assert unfinished.status_code == 409
    assert "finish" in unfinished.json()["detail"]


async def test_billing_staff_correct_charges_until_invoiced(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient_id = await people.patient_record()
    code = await add_service(billing_sessions, amount_minor=1_000)
    body = {"patient_id": str(patient_id), "code": code, "service_date": "2026-01-05"}
    item = await call(billing_client.post(f"{BILLING}/charges", json=body, headers=clerk), 201)
    fixed = await call(
        billing_client.patch(
            f"{BILLING}/charges/{item['id']}", json={"quantity": 3, "unit_price_minor": 900}, headers=clerk
        )
    )
    assert (fixed["quantity"], fixed["unit_price_minor"]) == (3, 900)

    await call(
        billing_client.post(f"{BILLING}/invoices", json={"patient_id": str(patient_id)}, headers=clerk), 201
    )
    late = await billing_client.patch(f"{BILLING}/charges/{item['id']}", json={"quantity": 1}, headers=clerk)
    assert late.status_code == 409
    assert late.json()["code"] == "already-invoiced"
    assert (await billing_client.delete(f"{BILLING}/charges/{item['id']}", headers=clerk)).status_code == 409
    async with billing_sessions() as session:
        row = await session.get(ChargeItem, uuid.UUID(item["id"]))
        assert row is not None and row.quantity == 3


@pytest.mark.parametrize(
    "path", ["/patients/{id}", "/encounters?patient_id={id}", "/lab-orders?patient_id={id}"]
)
async def test_billing_clerks_do_not_see_clinical_feeds(
    billing_client: httpx.AsyncClient, people: People, clerk: dict[str, str], path: str
) -> None:
    patient_id = await people.patient_record()
    answer = await billing_client.get(API + path.format(id=patient_id), headers=clerk)
    assert answer.status_code == 403, answer.text


async def test_charges_take_the_price_in_force_on_the_service_date(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient_id = await people.patient_record()
    code = await add_service(
        billing_sessions, amount_minor=1_000, valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1)
    )
    service_id = next(
        s["id"]
        for s in await call(billing_client.get(f"{BILLING}/services", headers=clerk))
        if s["code"] == code
    )
    later = {"amount_minor": 1_250, "currency": "EUR", "valid_from": "2026-01-01"}
    await call(billing_client.post(f"{BILLING}/services/{service_id}/prices", json=later, headers=clerk), 201)
    for day, price in (("2025-12-31", 1_000), ("2026-01-01", 1_250)):
        body = {"patient_id": str(patient_id), "code": code, "service_date": day}
        item = await call(billing_client.post(f"{BILLING}/charges", json=body, headers=clerk), 201)
        assert item["unit_price_minor"] == price, day
    early = {"patient_id": str(patient_id), "code": code, "service_date": "2024-12-31"}
    refused = await billing_client.post(f"{BILLING}/charges", json=early, headers=clerk)
    assert refused.status_code == 422 and refused.json()["code"] == "no-price"
