"""Secure messages over HTTP: a patient writes to a care team with an attachment, the team answers from
its triage inbox; unread counts; who may read and write what (401/403 per role); nothing half-stored."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents.models import Document
from clinical.messaging.models import Message
from core.audit.models import AuditEvent
from core.outbox import EventType, OutboxEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.encounter_builders import exe_bytes, png_bytes
from tests.clinical.messaging_builders import THREADS, care_team, start
from tests.clinical.scheduling_builders import account


async def test_a_patient_writes_with_an_attachment_and_the_care_team_answers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    team = await care_team(sessions, settings)
    patient, patient_headers = await account(sessions, settings, Role.PATIENT)
    created = await start(client, patient_headers, team.department_id, **{"inhaler.png": png_bytes()})
    assert created.status_code == 201, created.text
    thread = created.json()
    (first,) = thread["messages"]
    assert first["from_patient"] and first["attachments"][0]["filename"] == "inhaler.png"
    assert thread["awaiting_team"] is True

    # The team's inbox shows it waiting, unread; the attachment is in the patient's record, quietly.
    inbox = (
        await client.get(
            THREADS, params={"department_id": str(team.department_id)}, headers=team.nurse_headers
        )
    ).json()
    assert [(t["subject"], t["unread"], t["awaiting_team"]) for t in inbox["items"]] == [
        ("My inhaler", 1, True)
    ]
    assert (await client.get(f"{THREADS}/unread-count", headers=team.nurse_headers)).json() == {"unread": 1}
    document_id = first["attachments"][0]["document_id"]
    download = await client.get(f"/api/v1/documents/{document_id}/content", headers=team.nurse_headers)
    assert download.content == png_bytes()
    async with sessions() as session:
        added = await session.scalar(
            select(func.count()).where(
                OutboxEvent.event_type == EventType.DOCUMENT_ADDED,
                OutboxEvent.payload["document_id"].as_string() == document_id,
            )
        )
        told = await session.scalar(
            select(OutboxEvent).where(
                OutboxEvent.event_type == EventType.MESSAGE_RECEIVED,
                OutboxEvent.payload["thread_id"].as_string() == thread["id"],
            )
        )
    assert added == 0 and told is not None and told.payload["to"] == "care_team"

    reply = await client.post(
        f"{THREADS}/{thread['id']}/messages",
        data={"body": "A new prescription is ready."},
        headers=team.nurse_headers,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["author_name"] == team.nurse.full_name and not reply.json()["from_patient"]
    assert (await client.get(f"{THREADS}/unread-count", headers=patient_headers)).json() == {"unread": 1}
    read = await client.get(f"{THREADS}/{thread['id']}", headers=patient_headers)
    assert [m["body"] for m in read.json()["messages"]] == [
        "It runs out on Friday.",
        "A new prescription is ready.",
    ]
    assert read.json()["awaiting_team"] is False
    assert (await client.post(f"{THREADS}/{thread['id']}/read", headers=patient_headers)).status_code == 204
    assert (await client.get(f"{THREADS}/unread-count", headers=patient_headers)).json() == {"unread": 0}
    assert (await client.get(THREADS, headers=patient_headers)).json()["items"][0]["patient_id"] == str(
        patient.patient_id
    )


async def test_another_patient_can_neither_read_nor_answer_nor_list_a_conversation(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    team = await care_team(sessions, settings)
    owner, owner_headers = await account(sessions, settings, Role.PATIENT)
    _, other_headers = await account(sessions, settings, Role.PATIENT)
    thread_id = (await start(client, owner_headers, team.department_id)).json()["id"]
    refusals = [
        await client.get(f"{THREADS}/{thread_id}", headers=other_headers),
        await client.post(f"{THREADS}/{thread_id}/messages", data={"body": "hello"}, headers=other_headers),
        await client.post(f"{THREADS}/{thread_id}/read", headers=other_headers),
        await client.get(THREADS, params={"patient_id": str(owner.patient_id)}, headers=other_headers),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403]
    # The other patient's own list is empty: a patient's query only ever returns their rows.
    assert (await client.get(THREADS, headers=other_headers)).json()["items"] == []
    async with sessions() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEvent.resource_type == "message_thread",
                AuditEvent.outcome == "denied",
                AuditEvent.patient_id == owner.patient_id,
            )
        )
        messages = await session.scalar(select(func.count()).where(Message.thread_id == uuid.UUID(thread_id)))
    assert denied == 4 and messages == 1


async def test_roles_without_a_part_in_conversations_are_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    team = await care_team(sessions, settings)
    _, patient_headers = await account(sessions, settings, Role.PATIENT)
    _, billing_headers = await account(sessions, settings, Role.BILLING)
    thread_id = (await start(client, patient_headers, team.department_id)).json()["id"]
    assert (await client.get(THREADS)).status_code == 401
    assert (await client.get(f"{THREADS}/{thread_id}", headers=billing_headers)).status_code == 403
    assert (await client.get(f"{THREADS}/inboxes", headers=billing_headers)).status_code == 403
    assert (await client.get(f"{THREADS}/inboxes", headers=patient_headers)).status_code == 403
    # Only staff close a conversation; a closed one takes no more messages.
    assert (await client.post(f"{THREADS}/{thread_id}/close", headers=patient_headers)).status_code == 403
    closed = await client.post(f"{THREADS}/{thread_id}/close", headers=team.nurse_headers)
    assert closed.json()["status"] == "closed"
    late = await client.post(
        f"{THREADS}/{thread_id}/messages", data={"body": "one more"}, headers=patient_headers
    )
    assert late.status_code == 409


async def test_a_refused_attachment_stores_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    team = await care_team(sessions, settings)
    patient, headers = await account(sessions, settings, Role.PATIENT)
    refused = await start(client, headers, team.department_id, **{"setup.exe": exe_bytes()})
    assert refused.status_code == 415 and "accepted types" in refused.json()["detail"]
    too_many = await start(
        client, headers, team.department_id, a=png_bytes(), b=png_bytes(), c=png_bytes(), d=png_bytes()
    )
    assert too_many.status_code == 422 and "at most 3" in too_many.json()["detail"]
    assert (await client.get(THREADS, headers=headers)).json()["items"] == []
    async with sessions() as session:
        documents = await session.scalar(
            select(func.count()).where(Document.patient_id == patient.patient_id)
        )
    assert documents == 0


async def test_staff_read_a_patients_conversations_for_the_chart_and_the_inbox_counts(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    team = await care_team(sessions, settings)
    patient, headers = await account(sessions, settings, Role.PATIENT)
    await start(client, headers, team.department_id)
    _, clinician_headers = await account(sessions, settings, Role.CLINICIAN)
    chart = await client.get(
        THREADS, params={"patient_id": str(patient.patient_id)}, headers=clinician_headers
    )
    assert [t["department_id"] for t in chart.json()["items"]] == [str(team.department_id)]
    inboxes = (await client.get(f"{THREADS}/inboxes", headers=team.nurse_headers)).json()
    assert inboxes[0]["department_id"] == str(team.department_id) and inboxes[0]["mine"] is True
    assert (inboxes[0]["open"], inboxes[0]["awaiting_team"]) == (1, 1)
    unnamed = await client.get(THREADS, headers=clinician_headers)
    assert unnamed.status_code == 422
