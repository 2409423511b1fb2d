"""IHE PCD-04: alarms reported as ORU^R40 over MLLP to an alarm manager, from the outbox, until acknowledged.

The alarm manager is a real MLLP receiver on loopback, started by the test; alarms are raised through
the alarm engine as readings would raise them, in this run's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import select

from clinical.patients.models import Patient
from core.db import utc_now
from core.outbox import EventType, OutboxEvent
from core.principal import Role
from core.sessions import transaction
from devices.protocol.pcd01 import END_BLOCK, frame
from realtime.alarms import charting
from realtime.alarms.pcd04.dispatch import send_alarm_reports
from realtime.alarms.schemas import ThresholdSet
from tests.builders import create_user
from tests.devices.ingest_helpers import GUARD_S, iso, new_patient
from tests.ports import free_port
from tests.realtime.alarm_builders import evaluate_vitals_message


class AlarmManager:
    """A loopback MLLP receiver answering every message with `answer` (AA unless told)."""

    def __init__(self, answer: str = "AA", port: int = 0) -> None:
        self.answer, self.port = answer, port
        self.received: list[str] = []
        self.arrived = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> AlarmManager:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = (await reader.readuntil(END_BLOCK)).strip(b"\x0b\x1c\r").decode()
                self.received.append(data)
                self.arrived.set()
                control = data.split("\r")[0].split("|")[9]
                ack = f"MSH|^~\\&|ACM||OWNAT||20261207||ACK^R40^ACK|A{control}|P|2.6\rMSA|{self.answer}|{control}\r"
                writer.write(frame(ack))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def configured(resources, port: int):
    settings = resources.settings.model_copy(
        update={"pcd04_host": "127.0.0.1", "pcd04_port": port, "pcd04_timeout_s": 5.0}
    )
    return dataclasses.replace(resources, settings=settings)


async def sick_patient(resources) -> Patient:
    """A patient whose heart rate crosses a clinician's limit (alarming at once, high priority)."""
    patient_id = await new_patient(resources.sessions)
    clinician, _ = await create_user(resources.sessions, role=Role.CLINICIAN)
    async with transaction(resources.sessions) as session:
        await charting.set_thresholds(
            session=session,
            principal=clinician.as_principal(),
            patient_id=patient_id,
            items=[ThresholdSet(metric="hr", low=40, high=120, delay_s=0)],
            now=utc_now(),
        )
    readings = [{"metric": "8867-4", "value": 138.0, "unit": "/min", "time": iso(utc_now())}]
    changes = await evaluate_vitals_message(
        resources, {"patient_id": str(patient_id), "readings": readings}, now=utc_now()
    )
    assert any(c.change == "raised" for c in changes)
    async with resources.sessions() as session:
        return await session.get(Patient, patient_id)


def of_patient(received: list[str], patient: Patient) -> list[str]:
    return [message for message in received if f"PID|||{patient.mrn}^" in message]


async def waiting_events(resources, patient: Patient) -> list[OutboxEvent]:
    async with resources.sessions() as session:
        events = await session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.event_type == EventType.ALARM_CHANGED.value, OutboxEvent.dispatched_at.is_(None)
            )
        )
        return [e for e in events if e.payload.get("patient_id") == str(patient.id)]


async def send_until_quiet(resources) -> None:
    async with asyncio.timeout(GUARD_S):
        while await send_alarm_reports(resources, now=utc_now()):
            pass


async def test_a_raised_alarm_reaches_the_alarm_manager_as_oru_r40(resources) -> None:
    patient = await sick_patient(resources)
    async with AlarmManager() as manager:
        await send_until_quiet(configured(resources, manager.port))
    [message] = [m for m in of_patient(manager.received, patient) if "|start|" in m]
    segments = {line.split("|")[0] + line.split("|")[1]: line for line in message.split("\r") if line}
    assert "ORU^R40^ORU_R40" in message and "1.3.6.1.4.1.19376.1.6.4.4" in message
    assert f"PID|||{patient.mrn}^^^OWNAT^MR||{patient.family_name}^{patient.given_name}" in message
    assert "|196616^MDC_EVT_ALARM^MDC|" in segments["OBR1"]
    assert "68484^MDC_ATTR_ALARM_PRIORITY^MDC" in message and "|PH|" in message
    assert "|147842^MDC_ECG_HEART_RATE^MDC|1.0.0.0.2|138|264864^MDC_DIM_BEAT_PER_MIN^MDC|" in message
    assert "|active|" in message and "|SP|" in message
    assert await waiting_events(resources, patient) == []
    async with resources.sessions() as session:
        sent = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == EventType.ALARM_CHANGED.value)
        )
        mine = [e for e in sent if e.payload.get("patient_id") == str(patient.id)]
    assert mine and all(e.payload["pcd04"]["ack"] == "AA" for e in mine)


async def test_an_unreachable_alarm_manager_gets_the_alarms_later_in_order(resources) -> None:
    patient = await sick_patient(resources)
    port = free_port()  # nobody listens there until the manager starts
    settled = await send_alarm_reports(configured(resources, port), now=utc_now())
    assert settled == 0
    assert len(await waiting_events(resources, patient)) >= 1
    async with AlarmManager(port=port) as manager:
        await send_until_quiet(configured(resources, port))
    mine = of_patient(manager.received, patient)
    assert mine and "|start|" in mine[0]
    assert await waiting_events(resources, patient) == []


async def test_a_refusal_is_kept_with_the_answer_and_not_sent_again(resources) -> None:
    patient = await sick_patient(resources)
    async with AlarmManager(answer="AE") as manager:
        await send_until_quiet(configured(resources, manager.port))
        first = len(of_patient(manager.received, patient))
        await send_until_quiet(configured(resources, manager.port))
    assert first >= 1 and len(of_patient(manager.received, patient)) == first
    async with resources.sessions() as session:
        events = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == EventType.ALARM_CHANGED.value)
        )
        mine = [e for e in events if e.payload.get("patient_id") == str(patient.id)]
    assert mine and {e.payload["pcd04"]["ack"] for e in mine} == {"AE"}
