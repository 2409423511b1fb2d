"""Two aiortc peers consult through the signalling server: waiting room, admission, media, chat, end."""

from __future__ import annotations

import uuid

import pytest
from aiortc.mediastreams import VideoStreamTrack
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters.models import Encounter, EncounterStatus
from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.settings import Settings
from realtime.consult.models import ConsultChatMessage, ConsultEvent, ConsultSession
from realtime.consult.protocol import CLOSE_ENDED
from tests.realtime.consult_helpers import Peer, consult_client, video_visit
from tests.realtime.hub_helpers import serve_app, token_for

pytestmark = pytest.mark.asyncio


def consult_url(hub_url: str) -> str:
    return hub_url.replace("/ws", "/ws/consult")


async def test_patient_waits_is_admitted_and_media_and_chat_flow_both_ways(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions, passwords=False)
    async with serve_app(settings) as running:
        url = consult_url(running.url)
        async with (
            consult_client(url, token_for(visit.patient, settings)) as patient_ws,
            consult_client(url, token_for(visit.clinician, settings)) as clinician_ws,
        ):
            joined = await patient_ws.join(visit.room)
            assert joined["participant"]["status"] == "waiting", joined
            assert joined["participant"]["role"] == "patient"
            patient_id = joined["participant"]["id"]
            # Waiting: nothing may be sent to the room yet.
            await patient_ws.send(type="chat", text="hello?")
            assert (await patient_ws.error_for("chat"))["code"] == "not-admitted"

            joined = await clinician_ws.join(visit.room)
            assert joined["participant"]["status"] == "admitted"
            clinician_id = joined["participant"]["id"]
            waiting = await clinician_ws.expect("waiting")
            assert [p["id"] for p in waiting["waiting"]] == [patient_id]

            await clinician_ws.send(type="admit", participant=patient_id)
            admitted = await patient_ws.expect("admitted")
            assert [(p["id"], p["polite"]) for p in admitted["peers"]] == [(clinician_id, True)]
            assert (await clinician_ws.expect("peer-joined"))["participant"]["id"] == patient_id

            patient, clinician = Peer(patient_ws), Peer(clinician_ws)
            try:
                await patient.offer_to(clinician_id)
                offer = await clinician.answer_offer()
                assert (offer["from"], offer["purpose"]) == (patient_id, "initial")
                await patient.take_answer(clinician_id)
                await patient.media_flowing()
                await clinician.media_flowing()

                # Screen sharing: the patient adds a track and renegotiates on the same connection.
                await _share_screen(patient, clinician, clinician_id)

                await patient_ws.send(type="chat", text="I can see you", client_id="c1")
                await clinician_ws.send(type="chat", text="Good morning")
                for ws in (patient_ws, clinician_ws):
                    first = await ws.expect("chat", text="I can see you")
                    assert (first["from"], first["display_name"] != "") == (patient_id, True)
                    assert (await ws.expect("chat", text="Good morning"))["from"] == clinician_id

                await clinician_ws.send(type="end")
                for ws in (patient_ws, clinician_ws):
                    assert (await ws.expect("ended"))["reason"] == "ended"
                    assert await ws.closed_with() == CLOSE_ENDED
            finally:
                await patient.close()
                await clinician.close()

    await _assert_recorded(sessions, visit.room)


async def _share_screen(patient: Peer, clinician: Peer, clinician_id: str) -> None:
    before = clinician.tracks_received
    patient.pc.addTrack(VideoStreamTrack())
    await patient.offer_to(clinician_id, purpose="renegotiate")
    assert (await clinician.answer_offer())["purpose"] == "renegotiate"
    await patient.take_answer(clinician_id)
    assert clinician.tracks_received == before + 1


async def _assert_recorded(sessions: async_sessionmaker[AsyncSession], room: uuid.UUID) -> None:
    async with sessions() as session:
        consult = await session.scalar(select(ConsultSession).where(ConsultSession.appointment_id == room))
        assert consult is not None and consult.started_at and consult.ended_at and consult.encounter_id
        encounter = await session.get(Encounter, consult.encounter_id)
        assert encounter is not None and encounter.status is EncounterStatus.FINISHED
        # One clock for billing: the encounter's times are the consultation's.
        assert encounter.ended_at == consult.ended_at
        appointment = await session.get(Appointment, room)
        assert appointment is not None and appointment.status is AppointmentStatus.COMPLETED
        kinds = list(
            await session.scalars(
                select(ConsultEvent.kind)
                .where(ConsultEvent.consult_session_id == consult.id)
                .order_by(ConsultEvent.occurred_at)
            )
        )
        assert [k.value for k in kinds][:3] == ["join", "join", "admit"]
        assert "end" in [k.value for k in kinds]
        lines = list(
            await session.scalars(
                select(ConsultChatMessage).where(ConsultChatMessage.consult_session_id == consult.id)
            )
        )
        assert sorted(line.text for line in lines) == ["Good morning", "I can see you"]
        assert {line.encounter_id for line in lines} == {consult.encounter_id}
        actions = set(
            await session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.resource_type == "consult_session", AuditEvent.patient_id == consult.patient_id
                )
            )
        )
        assert {"join", "admit", "chat", "end"} <= actions
