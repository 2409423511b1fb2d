"""Billing reports against hand-computed figures, on PostgreSQL through the API and on SQLite."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.reports.ageing import ageing_report
from billing.reports.revenue import revenue_report
from billing.reports.schemas import Granularity
from core.db import create_engine
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from ownat import migrate
from tests.billing.report_fixture import (
    EXPECTED_PATIENT_AGEING,
    EXPECTED_PAYER_AGEING,
    Ledger,
    build_ledger,
    expected_revenue_rows,
)
from tests.clinical.encounter_builders import People

API = "/api/v1/billing/reports"


@pytest.fixture
def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    return People(sessions, settings)


async def _ledger(sessions: async_sessionmaker[AsyncSession], year: int) -> Ledger:
    async with transaction(sessions) as session:
        return await build_ledger(session, year)


async def test_ageing_buckets_match_the_hand_computed_figures(
    client: httpx.AsyncClient, people: People, sessions
) -> None:
    ledger = await _ledger(sessions, 2019)
    headers = (await people.staff(Role.BILLING)).headers
    params = {"as_of": ledger.as_of.isoformat(), "patient_id": str(ledger.patient_id)}
    response = await client.get(f"{API}/ageing", params=params, headers=headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["as_of"] == "2019-06-30"
    assert report["patients"] == [EXPECTED_PATIENT_AGEING]
    (payer,) = report["payers"]
    assert payer.pop("payer_id") == str(ledger.payer_id) and payer.pop("payer_name") == ledger.payer_name
    assert payer == EXPECTED_PAYER_AGEING
    # At the end of July: due 1 July is 30 days late, 29 June 32, 31 May 61, 30 May 62, April's 121 and
    # 122; the invoice issued 2 July (due 1 August) has joined, not yet due.
    later = (
        await client.get(f"{API}/ageing", params={**params, "as_of": "2019-07-31"}, headers=headers)
    ).json()
    buckets = later["patients"][0]
    assert (buckets["current"], buckets["days_1_30"], buckets["days_31_60"]) == (500, 10000, 3000)
    assert (buckets["days_61_90"], buckets["days_over_90"], buckets["total"]) == (11000, 3500, 28000)


async def test_revenue_by_period_payer_and_service(
    client: httpx.AsyncClient, people: People, sessions
) -> None:
    ledger = await _ledger(sessions, 2018)
    headers = (await people.staff(Role.ADMIN)).headers
    params = {"start": "2018-01-01", "end": "2019-01-01", "granularity": "month"}
    report = (await client.get(f"{API}/revenue", params=params, headers=headers)).json()
    rows = [(r["period"], r["payer_name"], r["service_code"], r["amount_minor"]) for r in report["rows"]]
    assert rows == expected_revenue_rows(ledger)
    assert {t["key"]: t["amount_minor"] for t in report["by_payer"]} == {
        "Patients (self-pay)": 33000,
        ledger.payer_name: 10000,
    }
    assert {t["key"]: t["amount_minor"] for t in report["by_service"]} == {
        "36415": 10500,
        "99213": 29500,
        "99214": 3000,
    }
    assert [(t["key"], t["amount_minor"]) for t in report["by_period"]] == [
        ("2018-02", 3000), ("2018-03", 3500), ("2018-04", 4000), ("2018-05", 12000), ("2018-06", 20000), ("2018-07", 500),
    ]  # fmt: skip
    yearly = (
        await client.get(f"{API}/revenue", params={**params, "granularity": "year"}, headers=headers)
    ).json()
    assert [(t["key"], t["amount_minor"]) for t in yearly["by_period"]] == [("2018", 43000)]
    one_payer = (
        await client.get(
            f"{API}/revenue", params={**params, "payer_id": str(ledger.payer_id)}, headers=headers
        )
    ).json()
    assert [(r["service_code"], r["amount_minor"]) for r in one_payer["rows"]] == [
        ("36415", 1000),
        ("99213", 9000),
    ]
    june = (
        await client.get(
            f"{API}/revenue",
            params={"start": "2018-06-01", "end": "2018-06-02", "granularity": "day"},
            headers=headers,
        )
    ).json()
    assert [(r["period"], r["amount_minor"]) for r in june["rows"]] == [("2018-06-01", 10000)]


async def test_reports_are_for_billing_staff_only(client: httpx.AsyncClient, people: People) -> None:
    for role in (Role.PATIENT, Role.CLINICIAN, Role.NURSE):
        headers = await people.headers_of(role)
        for path in ("ageing", "revenue"):
            response = await client.get(f"{API}/{path}", headers=headers)
            assert response.status_code == 403, (role, path)
    for path in ("ageing", "revenue"):
        assert (await client.get(f"{API}/{path}")).status_code == 401
    headers = (await people.staff(Role.BILLING)).headers
    backwards = await client.get(
        f"{API}/revenue", params={"start": "2020-01-02", "end": "2020-01-01"}, headers=headers
    )
    assert backwards.status_code == 422 and "after the start" in backwards.json()["detail"]


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / f'reports-{secrets.token_hex(3)}.db'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def test_the_same_figures_on_sqlite(sqlite_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sqlite_sessions() as session:
        ledger = await build_ledger(session, 2019)
        await session.commit()
    async with sqlite_sessions() as session:
        ageing = await ageing_report(session=session, as_of=ledger.as_of, patient_id=ledger.patient_id)
        revenue = await revenue_report(
            session=session, start=ledger.as_of.replace(month=1, day=1), end=ledger.as_of.replace(year=2020, month=1, day=1),
            granularity=Granularity.MONTH,
        )  # fmt: skip
    assert [bucket.model_dump() for bucket in ageing.patients] == [EXPECTED_PATIENT_AGEING]
    assert ageing.payers[0].model_dump(exclude={"payer_id", "payer_name"}) == EXPECTED_PAYER_AGEING
    rows = [(r.period, r.payer_name, r.service_code, r.amount_minor) for r in revenue.rows]
    assert rows == expected_revenue_rows(ledger)
    assert revenue.rows[-3].payer_id == ledger.payer_id
