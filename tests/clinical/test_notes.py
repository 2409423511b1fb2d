"""Clinical notes: drafting, signing by the author, immutability (service and database), addenda."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.encounter_builders import API, People, Staff, walk_in

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def people(sessions: Sessions, settings: Settings) -> People:
    return People(sessions, settings)


async def _draft(
    client: httpx.AsyncClient, clinician: Staff, encounter_id: object, body: str = "S: cough"
) -> dict:
    response = await client.post(
        f"{API}/encounters/{encounter_id}/notes", json={"text": body}, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_author_revises_then_signs_and_the_note_freezes(
    client: httpx.AsyncClient, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    note = await _draft(client, clinician, encounter["id"])
    assert note["signed_at"] is None and note["patient_id"] == encounter["patient_id"]

    url = f"{API}/notes/{note['id']}"
    revised = await client.patch(url, json={"text": "S: dry cough, 3 days"}, headers=clinician.headers)
    assert revised.status_code == 200 and revised.json()["text"] == "S: dry cough, 3 days"
    signed = await client.post(f"{url}/sign", headers=clinician.headers)
    assert signed.status_code == 200
    assert signed.json()["signed_by"] == str(clinician.user.id) and signed.json()["signed_at"] is not None

    after = await client.patch(url, json={"text": "rewritten"}, headers=clinician.headers)
    assert after.status_code == 409
    assert after.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(f"{url}/sign", headers=clinician.headers)).status_code == 409
    assert (await client.get(url, headers=clinician.headers)).json()["text"] == "S: dry cough, 3 days"


async def test_only_the_author_signs_or_revises(client: httpx.AsyncClient, people: People) -> None:
    author, colleague = await people.staff(), await people.staff()
    encounter = await walk_in(client, author, await people.patient_record())
    note = await _draft(client, author, encounter["id"])
    url = f"{API}/notes/{note['id']}"
    assert (await client.post(f"{url}/sign", headers=colleague.headers)).status_code == 403
    assert (await client.patch(url, json={"text": "x"}, headers=colleague.headers)).status_code == 403
    # The colleague may still read it and, once signed, add to it.
    assert (await client.get(url, headers=colleague.headers)).status_code == 200
    await client.post(f"{url}/sign", headers=author.headers)
    addendum = await client.post(f"{url}/addenda", json={"text": "Seen too."}, headers=colleague.headers)
    assert addendum.status_code == 201


async def test_addenda_only_on_signed_notes_and_listed_in_order(
    client: httpx.AsyncClient, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    note = await _draft(client, clinician, encounter["id"])
    url = f"{API}/notes/{note['id']}"
    early = await client.post(f"{url}/addenda", json={"text": "too early"}, headers=clinician.headers)
    assert early.status_code == 409
    await client.post(f"{url}/sign", headers=clinician.headers)
    for line in ("Lab result: CRP 4.", "Called the patient."):
        assert (
            await client.post(f"{url}/addenda", json={"text": line}, headers=clinician.headers)
        ).status_code == 201
    listed = (await client.get(f"{API}/encounters/{encounter['id']}/notes", headers=clinician.headers)).json()
    assert [a["text"] for a in listed[0]["addenda"]] == ["Lab result: CRP 4.", "Called the patient."]
    assert (
        await client.post(f"{url}/addenda", json={"text": "   "}, headers=clinician.headers)
    ).status_code == 422


async def test_a_patient_reads_only_their_signed_notes(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    me, other = await people.patient(), await people.patient()
    encounter = await walk_in(client, clinician, me.patient_id)
    draft = await _draft(client, clinician, encounter["id"], "draft thoughts")
    signed = await _draft(client, clinician, encounter["id"], "final note")
    await client.post(f"{API}/notes/{signed['id']}/sign", headers=clinician.headers)

    listed = await client.get(f"{API}/encounters/{encounter['id']}/notes", headers=me.headers)
    assert [n["id"] for n in listed.json()] == [signed["id"]]
    assert (await client.get(f"{API}/notes/{draft['id']}", headers=me.headers)).status_code == 404
    assert (await client.get(f"{API}/notes/{signed['id']}", headers=me.headers)).status_code == 200
    assert (await client.get(f"{API}/notes/{signed['id']}", headers=other.headers)).status_code == 403
    assert (
        await client.get(f"{API}/encounters/{encounter['id']}/notes", headers=other.headers)
    ).status_code == 403


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN, Role.PATIENT])
async def test_only_clinicians_write_notes(client: httpx.AsyncClient, people: People, role: Role) -> None:
    clinician = await people.staff()
    account = await people.patient()
    encounter = await walk_in(client, clinician, account.patient_id)
    note = await _draft(client, clinician, encounter["id"])
    await client.post(f"{API}/notes/{note['id']}/sign", headers=clinician.headers)
    headers = account.headers if role is Role.PATIENT else await people.headers_of(role)
    body = {"text": "mine"}
    assert (
        await client.post(f"{API}/encounters/{encounter['id']}/notes", json=body, headers=headers)
    ).status_code == 403
    assert (await client.patch(f"{API}/notes/{note['id']}", json=body, headers=headers)).status_code == 403
    assert (await client.post(f"{API}/notes/{note['id']}/sign", headers=headers)).status_code == 403
    assert (
        await client.post(f"{API}/notes/{note['id']}/addenda", json=body, headers=headers)
    ).status_code == 403


async def test_no_notes_in_a_cancelled_encounter(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    await client.post(
        f"{API}/encounters/{encounter['id']}/cancel", json={"reason": "error"}, headers=clinician.headers
    )
    response = await client.post(
        f"{API}/encounters/{encounter['id']}/notes", json={"text": "x"}, headers=clinician.headers
    )
    assert response.status_code == 409
    assert response.json()["encounter_status"] == "cancelled"


async def test_the_database_refuses_to_change_a_signed_note(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    draft = await _draft(client, clinician, encounter["id"], "draft")
    signed = await _draft(client, clinician, encounter["id"], "signed")
    url = f"{API}/notes/{signed['id']}"
    await client.post(f"{url}/sign", headers=clinician.headers)
    await client.post(f"{url}/addenda", json={"text": "later"}, headers=clinician.headers)

    update = text("UPDATE clinical_notes SET text = 'forged' WHERE id = :id")
    async with sessions() as session:
        await session.execute(update, {"id": uuid.UUID(draft["id"])})  # drafts may change
        await session.rollback()
    for statement in (
        update,
        text("DELETE FROM clinical_notes WHERE id = :id"),
        text("UPDATE clinical_notes SET signed_at = NULL, signed_by = NULL WHERE id = :id"),
    ):
        async with sessions() as session:
            with pytest.raises(IntegrityError, match="signed"):
                await session.execute(statement, {"id": uuid.UUID(signed["id"])})
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="append-only"):
            await session.execute(
                text("UPDATE note_addenda SET text = 'forged' WHERE note_id = :id"),
                {"id": uuid.UUID(signed["id"])},
            )
    assert (await client.get(url, headers=clinician.headers)).json()["text"] == "signed"


async def test_note_actions_are_audited(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    note = await _draft(client, clinician, encounter["id"])
    await client.post(f"{API}/notes/{note['id']}/sign", headers=clinician.headers)
    await client.get(f"{API}/notes/{note['id']}", headers=clinician.headers)
    async with sessions() as session:
        rows = list(
            await session.execute(
                select(AuditEvent.action, AuditEvent.patient_id).where(AuditEvent.resource_id == note["id"])
            )
        )
    assert {row.action for row in rows} >= {"create", "sign", "read"}
    assert {str(row.patient_id) for row in rows} == {encounter["patient_id"]}


async def test_notes_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, url in [
        ("POST", f"{API}/encounters/{some}/notes"),
        ("GET", f"{API}/encounters/{some}/notes"),
        ("GET", f"{API}/notes/{some}"),
        ("PATCH", f"{API}/notes/{some}"),
        ("POST", f"{API}/notes/{some}/sign"),
        ("POST", f"{API}/notes/{some}/addenda"),
    ]:
        assert (await client.request(method, url, json={"text": "x"})).status_code == 401, url
