"""Versions: meta.versionId, ETag and Last-Modified on every read, 304 for a current copy, changes
made through the REST API becoming the next version, vread, and instance and type `_history`."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import fhir_json, outcome

BASE = "/fhir/R4"
Sessions = async_sessionmaker[AsyncSession]


async def test_reads_carry_their_version_and_history_keeps_the_earlier_ones(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    patient_id = await builders.patient_record(sessions)
    staff = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    url = f"{BASE}/Patient/{patient_id}"
    first = await client.get(url, headers=staff)
    body = fhir_json(first)
    assert body["meta"]["versionId"] == "1" and first.headers["etag"] == 'W/"1"'
    assert first.headers["last-modified"].endswith("GMT")
    assert (await client.get(url, headers={**staff, "If-None-Match": 'W/"1"'})).status_code == 304
    assert (
        fhir_json(await client.get(url, headers=staff))["meta"]["versionId"] == "1"
    )  # unchanged: same version

    changed = await client.patch(
        f"/api/v1/patients/{patient_id}", json={"phone": "+44 20 7946 0999"}, headers=staff
    )
    assert changed.status_code == 200, changed.text
    second = await client.get(url, headers={**staff, "If-None-Match": 'W/"1"'})
    assert fhir_json(second)["meta"]["versionId"] == "2" and second.headers["etag"] == 'W/"2"'
    assert second.json()["telecom"][0]["value"] == "+44 20 7946 0999"

    old = await client.get(f"{url}/_history/1", headers=staff)
    assert fhir_json(old)["telecom"][0]["value"] == "+44 20 7946 0000" and old.headers["etag"] == 'W/"1"'
    outcome(await client.get(f"{url}/_history/9", headers=staff), 404)
    history = fhir_json(await client.get(f"{url}/_history", headers=staff))
    assert history["type"] == "history" and history["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    of_type = fhir_json(await client.get(f"{BASE}/Patient/_history", params={"_count": "100"}, headers=staff))
    assert of_type["type"] == "history" and of_type["total"] >= 2


async def test_searches_stamp_versions_and_a_patient_sees_only_their_own_history(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    assert user.patient_id is not None
    c = await builders.chart(sessions, user.patient_id)
    other = await builders.chart(sessions, await builders.patient_record(sessions))
    found = fhir_json(await client.get(f"{BASE}/AllergyIntolerance", headers=headers))
    assert [e["resource"]["meta"]["versionId"] for e in found["entry"]] == ["1"]
    outcome(await client.get(f"{BASE}/AllergyIntolerance/{other.allergy.id}/_history", headers=headers), 403)
    outcome(
        await client.get(f"{BASE}/AllergyIntolerance/{other.allergy.id}/_history/1", headers=headers), 403
    )
    staff = await builders.staff_headers(client, sessions, Role.NURSE)
    fhir_json(await client.get(f"{BASE}/AllergyIntolerance/{other.allergy.id}", headers=staff))
    mine = fhir_json(await client.get(f"{BASE}/AllergyIntolerance/_history", headers=headers))
    assert {e["resource"]["id"] for e in mine.get("entry", [])} == {str(c.allergy.id)}
