"""Vitals typed in by nurses and clinicians: units normalised, impossible values refused, scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters.recorded_vitals.models import RecordedVital
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.encounter_builders import API, People, walk_in

Sessions = async_sessionmaker[AsyncSession]
URL = f"{API}/recorded-vitals"


@pytest.fixture
def people(sessions: Sessions, settings: Settings) -> People:
    return People(sessions, settings)


async def _count(sessions: Sessions, patient_id: uuid.UUID) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(RecordedVital.patient_id == patient_id)) or 0


async def test_a_nurse_records_a_set_in_stored_units(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    nurse = await people.staff(Role.NURSE)
    patient_id = await people.patient_record()
    taken = (datetime.now(UTC) - timedelta(minutes=3)).replace(microsecond=0)
    body = {
        "patient_id": str(patient_id),
        "measured_at": taken.isoformat(),
        "readings": [
            {"metric": "hr", "value": 72, "unit": "/min"},
            {"metric": "8310-5", "value": 98.6, "unit": "[degF]"},
            {
                "metric": "sbp",
                "value": 120,
                "unit": "mm[Hg]",
                "measured_at": (taken - timedelta(minutes=1)).isoformat(),
            },
        ],
    }
    response = await client.post(URL, json=body, headers=nurse.headers)
    assert response.status_code == 201, response.text
    rows = {row["metric_code"]: row for row in response.json()}
    assert rows["8867-4"]["value"] == 72 and rows["8867-4"]["unit"] == "/min"
    assert rows["8310-5"]["unit"] == "Cel" and rows["8310-5"]["value"] == pytest.approx(37.0)
    assert datetime.fromisoformat(rows["8867-4"]["measured_at"]) == taken
    assert datetime.fromisoformat(rows["8480-6"]["measured_at"]) == taken - timedelta(minutes=1)
    assert {row["recorded_by"] for row in rows.values()} == {str(nurse.user.id)}
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.patient_id == patient_id, AuditEvent.resource_type == "recorded_vital"
            )
        )
    assert entry is not None and entry.action == "create" and len(entry.detail["ids"]) == 3


@pytest.mark.parametrize(
    "reading",
    [
        {"metric": "hr", "value": 900, "unit": "/min"},  # impossible
        {"metric": "spo2", "value": 101, "unit": "%"},
        {"metric": "temp", "value": 370, "unit": "Cel"},  # a slipped decimal point
        {"metric": "temp", "value": 37, "unit": "K"},  # not an accepted unit
        {"metric": "glucose", "value": 5, "unit": "mmol/L"},  # not a known metric
        {"metric": "hr", "value": "NaN", "unit": "/min"},
    ],
)
async def test_impossible_or_unknown_values_are_422_and_nothing_is_stored(
    client: httpx.AsyncClient, sessions: Sessions, people: People, reading: dict[str, object]
) -> None:
    nurse = await people.staff(Role.NURSE)
    patient_id = await people.patient_record()
    good = {"metric": "rr", "value": 16, "unit": "/min"}
    response = await client.post(
        URL, json={"patient_id": str(patient_id), "readings": [good, reading]}, headers=nurse.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _count(sessions, patient_id) == 0


async def test_future_times_and_empty_sets_are_refused(client: httpx.AsyncClient, people: People) -> None:
    nurse = await people.staff(Role.NURSE)
    patient_id = str(await people.patient_record())
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    reading = {"metric": "hr", "value": 60, "unit": "/min"}
    for body in (
        {"patient_id": patient_id, "measured_at": tomorrow, "readings": [reading]},
        {"patient_id": patient_id, "readings": []},
        {"readings": [reading]},
    ):
        assert (await client.post(URL, json=body, headers=nurse.headers)).status_code == 422
    unknown = await client.post(
        URL, json={"patient_id": str(uuid.uuid4()), "readings": [reading]}, headers=nurse.headers
    )
    assert unknown.status_code == 404


async def test_vitals_in_an_encounter(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    patient_id, other_id = await people.patient_record(), await people.patient_record()
    encounter = await walk_in(client, clinician, patient_id)
    reading = {"metric": "weight", "value": 154, "unit": "[lb_av]"}
    response = await client.post(
        URL, json={"encounter_id": encounter["id"], "readings": [reading]}, headers=clinician.headers
    )
    assert response.status_code == 201
    assert response.json()[0]["patient_id"] == str(patient_id)
    assert response.json()[0]["value"] == pytest.approx(69.853, abs=0.001)
    mismatch = await client.post(
        URL,
        json={"encounter_id": encounter["id"], "patient_id": str(other_id), "readings": [reading]},
        headers=clinician.headers,
    )
    assert mismatch.status_code == 422
    listed = await client.get(URL, params={"encounter_id": encounter["id"]}, headers=clinician.headers)
    assert [row["metric_code"] for row in listed.json()["items"]] == ["29463-7"]

    planned = await walk_in(client, clinician, patient_id, status="planned")
    refused = await client.post(
        URL, json={"encounter_id": planned["id"], "readings": [reading]}, headers=clinician.headers
    )
    assert refused.status_code == 409


async def test_a_patient_reads_only_their_own(client: httpx.AsyncClient, people: People) -> None:
    nurse = await people.staff(Role.NURSE)
    me, other = await people.patient(), await people.patient()
    for metric, value, unit in (("hr", 80, "/min"), ("spo2", 97, "%")):
        reading = {"metric": metric, "value": value, "unit": unit}
        await client.post(
            URL, json={"patient_id": str(me.patient_id), "readings": [reading]}, headers=nurse.headers
        )
    mine = await client.get(URL, headers=me.headers)
    assert {row["metric_code"] for row in mine.json()["items"]} == {"8867-4", "59408-5"}
    only_hr = await client.get(URL, params={"metric": "hr"}, headers=me.headers)
    assert [row["metric_code"] for row in only_hr.json()["items"]] == ["8867-4"]
    assert (await client.get(URL, params={"metric": "nonsense"}, headers=me.headers)).status_code == 422
    theirs = await client.get(URL, params={"patient_id": str(me.patient_id)}, headers=other.headers)
    assert theirs.status_code == 403
    assert theirs.headers["content-type"].startswith("application/problem+json")


async def test_staff_other_than_nurses_and_clinicians_do_not_record(
    client: httpx.AsyncClient, people: People
) -> None:
    account = await people.patient()
    body = {
        "patient_id": str(account.patient_id),
        "readings": [{"metric": "hr", "value": 70, "unit": "/min"}],
    }
    assert (await client.post(URL, json=body, headers=await people.headers_of(Role.ADMIN))).status_code == 403


async def test_a_patient_reports_their_own_vitals_only(client: httpx.AsyncClient, people: People) -> None:
    account, other = await people.patient(), await people.patient()
    reading = {"readings": [{"metric": "hr", "value": 70, "unit": "/min"}]}
    own = await client.post(
        URL, json={**reading, "patient_id": str(account.patient_id)}, headers=account.headers
    )
    assert own.status_code == 201, own.text
    assert own.json()[0]["reported_by_patient"] is True
    assert own.json()[0]["patient_id"] == str(account.patient_id)
    theirs = await client.post(
        URL, json={**reading, "patient_id": str(other.patient_id)}, headers=account.headers
    )
    assert theirs.status_code == 403


async def test_clinicians_record_too(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    body = {
        "patient_id": str(await people.patient_record()),
        "readings": [{"metric": "rr", "value": 14, "unit": "/min"}],
    }
    assert (await client.post(URL, json=body, headers=clinician.headers)).status_code == 201


async def test_recorded_vitals_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={})).status_code == 401
