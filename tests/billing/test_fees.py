"""Fee schedule: codes, dated prices that never overlap (API and database), roles."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.fees.models import BillableService, ServicePrice
from core.principal import Role
from core.sessions import transaction
from tests.billing.builders import BILLING, call
from tests.clinical.encounter_builders import People


async def _new_code(client: httpx.AsyncClient, clerk: dict[str, str]) -> dict:
    body = {"code": f"X{uuid.uuid4().hex[:6].upper()}", "kind": "procedure", "display": "Wound dressing"}
    return await call(client.post(f"{BILLING}/services", json=body, headers=clerk), 201)


def _price(amount: int, start: str, end: str | None = None, currency: str = "EUR") -> dict:
    return {"amount_minor": amount, "currency": currency, "valid_from": start, "valid_to": end}


async def test_prices_follow_dates_and_never_overlap(billing_client: httpx.AsyncClient, clerk: dict) -> None:
    service = await _new_code(billing_client, clerk)
    url = f"{BILLING}/services/{service['id']}/prices"
    await call(billing_client.post(url, json=_price(4_000, "2024-01-01", "2025-01-01"), headers=clerk), 201)
    await call(billing_client.post(url, json=_price(4_500, "2025-01-01"), headers=clerk), 201)

    overlap = await billing_client.post(url, json=_price(9_999, "2024-06-01", "2024-07-01"), headers=clerk)
    assert overlap.status_code == 409
    assert overlap.headers["content-type"] == "application/problem+json"
    assert "already has a price" in overlap.json()["detail"]

    listed = await call(billing_client.get(f"{BILLING}/services", headers=clerk))
    prices = next(s for s in listed if s["id"] == service["id"])["prices"]
    assert [(p["amount_minor"], p["valid_from"], p["valid_to"]) for p in prices] == [
        (4_000, "2024-01-01", "2025-01-01"),
        (4_500, "2025-01-01", None),
    ]


async def test_the_database_refuses_overlapping_prices(
    billing_client: httpx.AsyncClient, clerk: dict, billing_sessions: async_sessionmaker[AsyncSession]
) -> None:
    service = await _new_code(billing_client, clerk)
    url = f"{BILLING}/services/{service['id']}/prices"
    await call(billing_client.post(url, json=_price(4_000, "2024-01-01"), headers=clerk), 201)
    with pytest.raises(IntegrityError, match="billing_service_prices_no_overlap"):
        async with transaction(billing_sessions) as session:
            session.add(
                ServicePrice(
                    service_id=uuid.UUID(service["id"]),
                    amount_minor=1,
                    currency="EUR",
                    valid_from=date(2030, 1, 1),
                )
            )


async def test_bad_prices_are_refused_and_nothing_is_stored(
    billing_client: httpx.AsyncClient, clerk: dict, billing_sessions: async_sessionmaker[AsyncSession]
) -> None:
    service = await _new_code(billing_client, clerk)
    url = f"{BILLING}/services/{service['id']}/prices"
    negative = await billing_client.post(url, json=_price(-100, "2024-01-01"), headers=clerk)
    foreign = await billing_client.post(url, json=_price(100, "2024-01-01", currency="USD"), headers=clerk)
    floating = await billing_client.post(
        url, json={**_price(100, "2024-01-01"), "amount_minor": 12.5}, headers=clerk
    )
    assert (negative.status_code, foreign.status_code, floating.status_code) == (422, 422, 422)
    assert foreign.json()["code"] == "currency-mismatch"
    async with billing_sessions() as session:
        service_row = await session.get(BillableService, uuid.UUID(service["id"]))
        assert service_row is not None
        assert (
            list(await session.scalars(select(ServicePrice).where(ServicePrice.service_id == service_row.id)))
            == []
        )


async def test_consultation_bands_may_not_overlap(
    billing_client: httpx.AsyncClient, clerk: dict, fee_schedule: object
) -> None:
    body = {
        "code": "CONS-X",
        "kind": "consultation",
        "display": "Odd",
        "min_duration_min": 20,
        "max_duration_min": 40,
    }
    answer = await billing_client.post(f"{BILLING}/services", json=body, headers=clerk)
    assert answer.status_code == 409
    assert "CONS-" in answer.json()["detail"]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINICIAN])
async def test_only_managers_change_the_fee_schedule(
    billing_client: httpx.AsyncClient, people: People, role: Role
) -> None:
    headers = await people.headers_of(role)
    body = {"code": "NOPE1", "kind": "procedure", "display": "Nope"}
    assert (await billing_client.post(f"{BILLING}/services", json=body, headers=headers)).status_code == 403


async def test_reading_the_fee_schedule_needs_a_chargers_role(
    billing_client: httpx.AsyncClient, people: People
) -> None:
    assert (await billing_client.get(f"{BILLING}/services")).status_code == 401
    for role, status in ((Role.PATIENT, 403), (Role.NURSE, 403), (Role.CLINICIAN, 200), (Role.ADMIN, 200)):
        answer = await billing_client.get(f"{BILLING}/services", headers=await people.headers_of(role))
        assert answer.status_code == status, role
