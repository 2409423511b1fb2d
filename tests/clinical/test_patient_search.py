"""Patient search: name prefixes, birth date, identifiers, keyset pages with a total, scope and audit."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from tests.clinical.builders import audit_trail, create_patient, signed_in_patient, unique_name
from tests.clinical.conftest import HeadersFor

URL = "/api/v1/patients"


async def test_name_search_is_a_case_and_accent_insensitive_prefix(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    stem = unique_name("Zq").lower()
    mueller = await create_patient(sessions, given_name="Jürgen", family_name=f"Müller{stem}")
    await create_patient(sessions, given_name="Anna", family_name=f"Schmidt{stem}")
    headers = await headers_for(Role.NURSE)
    found = (await client.get(URL, params={"name": f"MULLER{stem[:3]}"}, headers=headers)).json()
    assert [p["id"] for p in found["items"]] == [str(mueller.id)]
    both_words = (await client.get(URL, params={"name": "jurg mull"}, headers=headers)).json()
    assert str(mueller.id) in [p["id"] for p in both_words["items"]]
    assert (await client.get(URL, params={"name": f"100%{stem}"}, headers=headers)).json()["total"] == 0


async def test_search_by_birth_date_and_name_together(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    family = unique_name("Birth")
    older = await create_patient(sessions, family_name=family, birth_date=date(1950, 1, 2))
    await create_patient(sessions, family_name=family, birth_date=date(1999, 9, 9))
    page = (
        await client.get(
            URL, params={"name": family, "birth_date": "1950-01-02"}, headers=await headers_for(Role.ADMIN)
        )
    ).json()
    assert (page["total"], [p["id"] for p in page["items"]]) == (1, [str(older.id)])


async def test_an_impossible_birth_date_in_a_search_is_422(
    client: httpx.AsyncClient, headers_for: HeadersFor
) -> None:
    response = await client.get(
        URL, params={"birth_date": "2025-02-30"}, headers=await headers_for(Role.NURSE)
    )
    assert response.status_code == 422
    assert "birth_date" in response.text


async def test_search_by_mrn_external_identifier_and_system_token(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions)
    headers = await headers_for(Role.CLINICIAN)
    value = unique_name("INS")
    await client.post(
        f"{URL}/{patient.id}/identifiers", json={"system": "urn:oid:9.8.7", "value": value}, headers=headers
    )
    for identifier in (
        patient.mrn,
        patient.mrn.lower(),
        patient.mrn.removeprefix("MRN-"),
        value,
        f"urn:oid:9.8.7|{value}",
    ):
        page = (await client.get(URL, params={"identifier": identifier}, headers=headers)).json()
        assert [p["id"] for p in page["items"]] == [str(patient.id)], identifier
    wrong_system = (
        await client.get(URL, params={"identifier": f"urn:oid:1.1|{value}"}, headers=headers)
    ).json()
    assert wrong_system["total"] == 0


async def test_pages_follow_the_cursor_and_report_the_total(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    family = unique_name("Page")
    created = {str((await create_patient(sessions, family_name=family)).id) for _ in range(5)}
    headers = await headers_for(Role.NURSE)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"name": family, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(URL, params=params, headers=headers)).json()
        assert page["total"] == 5
        seen += [p["id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == created


async def test_page_size_is_capped_and_cursors_are_checked(
    client: httpx.AsyncClient, headers_for: HeadersFor
) -> None:
    headers = await headers_for(Role.NURSE)
    assert (await client.get(URL, params={"limit": 101}, headers=headers)).status_code == 422
    assert (await client.get(URL, params={"limit": 0}, headers=headers)).status_code == 422
    bad = await client.get(URL, params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 422
    assert "cursor" in bad.json()["detail"]


async def test_a_patient_searching_finds_only_themselves(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    other = await create_patient(sessions)
    everything = (await client.get(URL, headers=headers)).json()
    assert [p["id"] for p in everything["items"]] == [str(patient.id)]
    assert everything["total"] == 1
    assert (await client.get(URL, params={"identifier": other.mrn}, headers=headers)).json()["total"] == 0


async def test_search_requires_authentication(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL, params={"name": "a"})).status_code == 401


async def test_every_patient_returned_by_a_search_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    family = unique_name("Audit")
    first = await create_patient(sessions, family_name=family)
    second = await create_patient(sessions, family_name=family)
    response = await client.get(URL, params={"name": family}, headers=await headers_for(Role.CLINICIAN))
    assert response.json()["total"] == 2
    for patient in (first, second):
        assert ("read", "patient", "success") in await audit_trail(sessions, patient_id=patient.id)
    async with sessions() as session:
        searches = list(
            await session.scalars(
                select(AuditEvent.detail).where(
                    AuditEvent.action == "search", AuditEvent.resource_type == "patient"
                )
            )
        )
    assert {"criteria": ["name"], "returned": 2} in searches
