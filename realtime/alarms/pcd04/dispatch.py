"""Sending alarm changes to the alarm manager (IHE PCD-04) from the outbox, in order, until acknowledged.

Every alarm change writes an `alarm.changed` outbox event in its own transaction (see
`realtime.alarms.store.audit_changes`). `ownat worker` (and `ownat dev`) runs `send_alarm_reports`
every second: it claims the waiting events oldest first (`FOR UPDATE SKIP LOCKED`), sends each as
an ORU^R40 over MLLP to `OWNAT_PCD04_HOST:OWNAT_PCD04_PORT`, and marks it dispatched once the
alarm manager answered: AA or CA, delivered; AE or AR, refused (logged with the answer and kept in
the event's payload, never sent again: sending the same message would be refused the same way).
No answer (the manager away, a timeout, a broken connection) stops the pass there, leaving that
event and the ones after it waiting, so the next pass sends them again in order: nothing is lost,
and an alarm's end never overtakes its start. With no host configured, events are settled unsent.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Bed, Ward
from clinical.patients import Patient
from core.outbox import EventType, OutboxEvent
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from devices.protocol import END_BLOCK, frame
from realtime.alarms.models import Alarm
from realtime.alarms.pcd04.message import AlarmReport, oru_r40

log = logging.getLogger(__name__)
BATCH = 50


class NotAnswered(Exception):
    """The alarm manager could not be reached or did not answer in time."""


async def send_alarm_reports(resources: Resources, *, now: datetime) -> int:
    """One pass: sends waiting alarm changes until one is not answered; returns how many were settled."""
    settings = resources.settings
    settled = 0
    async with transaction(resources.sessions) as session:
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .where(
                    OutboxEvent.dispatched_at.is_(None),
                    OutboxEvent.event_type == EventType.ALARM_CHANGED.value,
                )
                .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        if not events:
            return 0
        if settings.pcd04_host is None:
            for event in events:
                event.dispatched_at = now
            return len(events)
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            for event in events:
                report = await _report_of(session, event)
                if report is not None:
                    message = oru_r40(
                        report,
                        control_id=event.id.hex[:20].upper(),
                        receiver=settings.pcd04_receiving_application,
                    )
                    try:
                        connection, answer = await _exchange(settings, connection, message)
                    except NotAnswered as error:
                        log.warning("PCD-04: alarm manager not answering (%s); will send again", error)
                        break
                    code, text = _msa(answer)
                    event.payload = {**event.payload, "pcd04": {"ack": code, "text": text}}
                    if code not in ("AA", "CA"):
                        log.error(
                            "PCD-04: alarm manager refused alarm %s (%s %s)", report.alarm_id, code, text
                        )
                event.dispatched_at = now
                settled += 1
        finally:
            if connection is not None:
                connection[1].close()
    return settled


async def _exchange(
    settings: Settings, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, message: str
) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], str]:
    try:
        async with asyncio.timeout(settings.pcd04_timeout_s):
            if connection is None:
                connection = await asyncio.open_connection(settings.pcd04_host, settings.pcd04_port)
            reader, writer = connection
            writer.write(frame(message))
            await writer.drain()
            answer = await reader.readuntil(END_BLOCK)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
        if connection is not None:
            connection[1].close()
        raise NotAnswered(repr(error)) from error
    return connection, answer.decode("utf-8", errors="replace")


def _msa(answer: str) -> tuple[str, str]:
    for segment in answer.strip("\x0b\x1c\r").split("\r"):
        if segment.startswith("MSA"):
            fields = segment.split("|")
            return (fields[1] if len(fields) > 1 else ""), (fields[3] if len(fields) > 3 else "")
    return "", "no MSA segment in the answer"


async def _report_of(session: AsyncSession, event: OutboxEvent) -> AlarmReport | None:
    alarm = await session.get(Alarm, uuid.UUID(event.payload["alarm_id"]))
    if alarm is None:  # the patient's record was removed since
        return None
    patient = await session.get(Patient, alarm.patient_id)
    where = ("", "", "")
    if alarm.bed_id is not None:
        row = (
            await session.execute(
                select(Ward.code, Bed.label).join(Bed, Bed.ward_id == Ward.id).where(Bed.id == alarm.bed_id)
            )
        ).first()
        if row is not None:
            where = (row[0], "", row[1])
    metric = alarm.code if alarm.code[:1].isdigit() else None
    return AlarmReport(
        alarm_id=alarm.id,
        change=event.payload.get("change", "updated"),
        code=alarm.code,
        kind=alarm.kind,
        priority=alarm.priority,
        acknowledged=alarm.acknowledged_at is not None,
        raised_at=alarm.raised_at,
        text=_text(alarm),
        metric=metric,
        value=alarm.value
        if alarm.value is not None
        else (float(alarm.score) if alarm.score is not None else None),
        mrn=patient.mrn if patient else "",
        family=patient.family_name if patient else "",
        given=patient.given_name if patient else "",
        point_of_care=where,
        device_id=alarm.device_id,
    )


def _text(alarm: Alarm) -> str:
    side = alarm.detail.get("side") if isinstance(alarm.detail, dict) else None
    if alarm.code == "news2":
        return f"NEWS2 {alarm.score}" if alarm.score is not None else "NEWS2"
    return f"{alarm.code} {side}" if side else alarm.code
