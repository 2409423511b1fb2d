"""GET /api/v1/patients/{id}/vitals (raw, bucketed, from rollups), /latest and /observations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from core.principal import Role
from core.sessions import transaction
from devices.vitals.models import VitalReading
from devices.vitals.rollups import refresh_rollups
from tests.builders import signed_in
from tests.devices.ingest_helpers import unique_device_id

HR = "8867-4"


async def _store(
    sessions, patient_id: uuid.UUID, values: list[tuple[datetime, float]], metric: str = HR
) -> str:
    device_id = unique_device_id("api")
    unit = "/min" if metric == HR else "%"
    rows = [
        {
            "time": t,
            "device_id": device_id,
            "patient_id": patient_id,
            "metric": metric,
            "value": v,
            "unit": unit,
        }
        for t, v in values
    ]
    async with transaction(sessions) as session:
        await session.execute(insert(VitalReading), rows)
    return device_id


def _minute(offset_minutes: int) -> datetime:
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    return base + timedelta(minutes=offset_minutes)


def _params(start: datetime, end: datetime, **extra: str) -> dict[str, str]:
    return {"metric": "hr", "start": start.isoformat(), "end": end.isoformat(), **extra}


async def test_a_patient_reads_their_own_raw_series(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    values = [(_minute(0) + timedelta(seconds=10 * i), 60.0 + i) for i in range(12)]
    device_id = await _store(sessions, user.patient_id, values)
    response = await client.get(
        f"/api/v1/patients/{user.patient_id}/vitals", params=_params(_minute(0), _minute(5)), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["metric"], body["unit"], body["source"], body["truncated"]) == (HR, "/min", "raw", False)
    assert [p["value"] for p in body["points"]] == [v for _, v in values]
    assert {p["device_id"] for p in body["points"]} == {device_id}
    assert datetime.fromisoformat(body["points"][0]["time"]) == values[0][0]


async def test_buckets_give_min_avg_max_per_bucket(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    # Minute 0..9, one reading a minute with value = minute: 5-minute buckets hold 0..4 and 5..9.
    await _store(
        sessions, user.patient_id, [(_minute(i) + timedelta(seconds=1), float(i)) for i in range(10)]
    )
    response = await client.get(
        f"/api/v1/patients/{user.patient_id}/vitals",
        params=_params(_minute(0), _minute(10), bucket="5m"),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    buckets = response.json()["buckets"]
    assert [(b["min"], b["avg"], b["max"], b["count"]) for b in buckets] == [(0, 2, 4, 5), (5, 7, 9, 5)]
    assert datetime.fromisoformat(buckets[0]["start"]) <= _minute(0)


async def test_long_ranges_read_the_one_minute_rollups(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    start = _minute(0) - timedelta(hours=10)
    await _store(
        sessions, user.patient_id, [(start + timedelta(seconds=20 * i), 70.0 + i % 3) for i in range(9)]
    )
    async with transaction(sessions) as session:
        await refresh_rollups(session, since=start)
    response = await client.get(
        f"/api/v1/patients/{user.patient_id}/vitals",
        params=_params(start, start + timedelta(hours=12), bucket="1h"),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "rollup"
    [bucket] = body["buckets"]
    assert (bucket["min"], bucket["max"], bucket["count"]) == (70, 72, 9)
    assert bucket["avg"] == pytest.approx(71)


async def test_raw_series_are_capped_and_say_where_to_continue(client, sessions) -> None:
    from devices.vitals import service

    user, headers = await signed_in(client, sessions, Role.PATIENT)
    start = _minute(0)
    count = service.MAX_RAW_POINTS + 3
    await _store(
        sessions, user.patient_id, [(start + timedelta(milliseconds=100 * i), 80.0) for i in range(count)]
    )
    response = await client.get(
        f"/api/v1/patients/{user.patient_id}/vitals", params=_params(start, _minute(30)), headers=headers
    )
    body = response.json()
    assert body["truncated"] is True and len(body["points"]) == service.MAX_RAW_POINTS
    assert datetime.fromisoformat(body["next_start"]) == start + timedelta(
        milliseconds=100 * service.MAX_RAW_POINTS
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CLINICIAN, Role.NURSE])
async def test_staff_read_any_patient(client, sessions, role: Role) -> None:
    patient_id = uuid.uuid4()
    await _store(sessions, patient_id, [(_minute(1), 71.0)])
    _, headers = await signed_in(client, sessions, role)
    for path in ("vitals", "vitals/latest", "vitals/observations"):
        params = _params(_minute(0), _minute(5)) if path == "vitals" else {}
        response = await client.get(f"/api/v1/patients/{patient_id}/{path}", params=params, headers=headers)
        assert response.status_code == 200, (path, response.text)


async def test_a_patient_may_not_read_another_patients_vitals(client, sessions) -> None:
    _, headers = await signed_in(client, sessions, Role.PATIENT)
    other = uuid.uuid4()
    for path in ("vitals", "vitals/latest", "vitals/observations"):
        response = await client.get(
            f"/api/v1/patients/{other}/{path}", params={"metric": "hr"}, headers=headers
        )
        assert response.status_code == 403, path


async def test_vitals_need_a_signed_in_user(client) -> None:
    for path in ("vitals", "vitals/latest", "vitals/observations"):
        response = await client.get(f"/api/v1/patients/{uuid.uuid4()}/{path}", params={"metric": "hr"})
        assert response.status_code == 401, path


async def test_bad_queries_are_refused_with_reasons(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    url = f"/api/v1/patients/{user.patient_id}/vitals"
    cases = [
        {"metric": "glucose"},
        {"metric": "hr", "start": "2026-11-23T10:00:00"},
        {"metric": "hr", "start": _minute(5).isoformat(), "end": _minute(0).isoformat()},
        _params(_minute(0) - timedelta(days=30), _minute(0), bucket="1m"),
        {"metric": "hr", "bucket": "2m"},
    ]
    for params in cases:
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 422, (params, response.text)


async def test_latest_gives_the_newest_value_per_metric(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    await _store(sessions, user.patient_id, [(_minute(90), 70.0), (_minute(100), 75.0)])
    await _store(sessions, user.patient_id, [(_minute(95), 97.0)], metric="59408-5")
    response = await client.get(f"/api/v1/patients/{user.patient_id}/vitals/latest", headers=headers)
    assert response.status_code == 200, response.text
    latest = {item["metric"]: (item["value"], item["unit"]) for item in response.json()}
    assert latest == {HR: (75.0, "/min"), "59408-5": (97.0, "%")}


async def test_observations_are_a_fhir_bundle_of_vital_signs(client, sessions) -> None:
    user, headers = await signed_in(client, sessions, Role.PATIENT)
    device_id = await _store(sessions, user.patient_id, [(_minute(110), 72.0)])
    response = await client.get(
        f"/api/v1/patients/{user.patient_id}/vitals/observations",
        params={"metric": "hr", "start": _minute(100).isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    observation = bundle["entry"][0]["resource"]
    assert observation["resourceType"] == "Observation" and observation["status"] == "final"
    assert observation["category"][0]["coding"][0]["code"] == "vital-signs"
    assert observation["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": HR,
        "display": "Heart rate",
    }
    assert observation["valueQuantity"] == {
        "value": 72.0,
        "unit": "/min",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert observation["subject"] == {"reference": f"Patient/{user.patient_id}"}
    assert observation["device"]["identifier"]["value"] == device_id
    assert datetime.fromisoformat(observation["effectiveDateTime"]) == _minute(110)
