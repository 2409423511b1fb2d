"""Patient: read, search by every supported parameter, paging, scoping by the caller, audit."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.constants import MRN_SYSTEM
from clinical.patients.models import Patient
from clinical.patients.terms import AdministrativeGender
from core.audit.models import AuditEvent
from core.principal import Role
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, link, outcome

BASE = "/fhir/R4"
STAFF = [Role.NURSE, Role.CLINICIAN, Role.ADMIN]


@pytest.mark.parametrize("role", STAFF)
async def test_staff_read_a_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    patient_id = await builders.patient_record(sessions, given="Émile")
    headers = await builders.staff_headers(client, sessions, role)
    body = fhir_json(await client.get(f"{BASE}/Patient/{patient_id}", headers=headers))
    assert body["id"] == str(patient_id)
    assert body["name"][0]["given"] == ["Émile"]
    assert body["gender"] == "female" and body["birthDate"] == "1980-05-17"
    mrn = body["identifier"][0]
    assert mrn["system"] == MRN_SYSTEM and mrn["value"].startswith("MRN-")
    assert body["address"][0]["country"] == "GB"
    assert body["communication"][0]["language"]["coding"][0]["code"] == "en-GB"


async def test_a_patient_reads_their_own_record_but_not_anothers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    other = await builders.patient_record(sessions)
    body = fhir_json(await client.get(f"{BASE}/Patient/{user.patient_id}", headers=headers))
    assert body["id"] == str(user.patient_id)
    issue = outcome(await client.get(f"{BASE}/Patient/{other}", headers=headers), 403)
    assert issue["code"] == "forbidden"
    async with sessions() as session:
        outcomes = list(
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.actor_id == user.id,
                    AuditEvent.action == "fhir.read",
                    AuditEvent.patient_id == other,
                )
            )
        )
    assert outcomes == ["denied"]


async def test_reads_are_audited_with_the_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await builders.patient_record(sessions)
    headers = await builders.staff_headers(client, sessions, Role.NURSE)
    fhir_json(await client.get(f"{BASE}/Patient/{patient_id}", headers=headers))
    fhir_json(await client.get(f"{BASE}/Patient", params={"_id": str(patient_id)}, headers=headers))
    async with sessions() as session:
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id)))
    actions = {(e.action, e.resource_type, e.outcome) for e in events}
    assert ("fhir.read", "fhir.Patient", "success") in actions
    assert ("fhir.search", "fhir.Patient", "success") in actions
    search = next(e for e in events if e.action == "fhir.search")
    assert search.detail["resources"] == [f"Patient/{patient_id}"]


async def test_unknown_patient_is_404(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    outcome(await client.get(f"{BASE}/Patient/{uuid.uuid4()}", headers=headers), 404)


async def test_search_by_names_birthdate_gender_and_identifiers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    family = builders.token()
    muller = await builders.patient_record(
        sessions, family=f"{family}Müller", given="Jörg", gender=AdministrativeGender.MALE
    )
    anna = await builders.patient_record(
        sessions, family=f"{family}Berg", given="Anna", birth_date=date(1990, 2, 3)
    )
    await builders.identifier(
        sessions, anna, system="urn:oid:2.16.840.1.113883.2.1.4.1", value=f"NHS{family}"
    )
    headers = await builders.staff_headers(client, sessions, Role.CLINICIAN)

    async def ids(**params: str) -> set[str]:
        return set(entry_ids(fhir_json(await client.get(f"{BASE}/Patient", params=params, headers=headers))))

    assert await ids(family=family) == {str(muller), str(anna)}
    assert await ids(name=f"{family.lower()}muller") == {str(muller)}  # case and accents folded
    assert await ids(family=family, given="jor") == {str(muller)}
    assert await ids(**{"family:exact": f"{family}Berg"}) == {str(anna)}
    assert await ids(**{"name:contains": family[2:]}) == {str(muller), str(anna)}
    assert await ids(family=family, birthdate="1990-02-03") == {str(anna)}
    assert await ids(family=family, birthdate="ge1985") == {str(anna)}
    assert await ids(family=family, birthdate="lt1985-01") == {str(muller)}
    assert await ids(family=family, gender="male") == {str(muller)}
    assert await ids(identifier=f"NHS{family}") == {str(anna)}
    assert await ids(identifier=f"urn:oid:2.16.840.1.113883.2.1.4.1|NHS{family}") == {str(anna)}
    assert await ids(identifier=f"urn:other|NHS{family}") == set()
    async with sessions() as session:
        mrn = (await session.get(Patient, muller)).mrn  # type: ignore[union-attr]
    assert await ids(identifier=f"{MRN_SYSTEM}|{mrn}") == {str(muller)}
    assert await ids(_id=f"{muller},{anna}") == {str(muller), str(anna)}


async def test_search_pages_with_count_total_and_next_links(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    family = builders.token()
    created = {str(await builders.patient_record(sessions, family=family, given=f"G{i}")) for i in range(5)}
    headers = await builders.staff_headers(client, sessions, Role.NURSE)
    first = fhir_json(
        await client.get(f"{BASE}/Patient", params={"family": family, "_count": "2"}, headers=headers)
    )
    assert first["type"] == "searchset" and first["total"] == 5
    assert len(first["entry"]) == 2
    assert all(e["fullUrl"].endswith(f"/Patient/{e['resource']['id']}") for e in first["entry"])
    assert "_count=2" in link(first, "self")  # type: ignore[operator]
    seen = entry_ids(first)
    url = link(first, "next")
    while url:
        page = fhir_json(await client.get(url, headers=headers))
        assert page["total"] == 5
        seen += entry_ids(page)
        url = link(page, "next")
    assert len(seen) == 5 and set(seen) == created


async def test_count_is_capped(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    headers = await builders.staff_headers(client, sessions, Role.NURSE)
    body = fhir_json(await client.get(f"{BASE}/Patient", params={"_count": "100000"}, headers=headers))
    assert "_count=100&" in link(body, "self")  # type: ignore[operator]
    assert len(body.get("entry", [])) <= 100


async def test_a_patient_searching_finds_only_themselves(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    other = await builders.patient_record(sessions)
    assert entry_ids(fhir_json(await client.get(f"{BASE}/Patient", headers=headers))) == [
        str(user.patient_id)
    ]
    body = fhir_json(await client.get(f"{BASE}/Patient", params={"_id": str(other)}, headers=headers))
    assert body["total"] == 0 and "entry" not in body
