"""Receiving an HL7 v2 ORU^R01: store it, file it if it fits, and answer with the right ACK.

The same function serves the HTTP endpoint and the MLLP listener. Every message is stored,
whatever becomes of it: filed (AA), kept for a person with its reason (AE, or AR when it is not
an acceptable ORU^R01 at all), or noted as a repeat of one already filed (AA, nothing filed twice).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import hl7
from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import hl7_filing
from clinical.lab.hl7.ack import AckOutcome, build_ack
from clinical.lab.hl7.batch import build_batch_ack, is_batch, split_batch
from clinical.lab.hl7.errors import AckCode, Hl7Problem
from clinical.lab.hl7.message import Header, check_oru_header, parse_message, read_header, storable
from clinical.lab.hl7.oru import read_oru
from clinical.lab.models import Hl7Message
from clinical.lab.terms import MessageStatus, Resolution
from core import audit
from core.db import utc_now
from core.principal import Principal

HTTP, MLLP = "http", "mllp"


@dataclass(frozen=True, slots=True)
class Receipt:
    """The stored message and the acknowledgement to send back."""

    message: Hl7Message
    ack: str


async def receive(
    *,
    session: AsyncSession,
    actor: Principal,
    raw: str,
    channel: str,
    received_by: uuid.UUID | None = None,
    default_tz: tzinfo = UTC,
) -> str:
    """Receives one message or a batch of them (FHS/BHS); returns the acknowledgement to send back."""
    if not is_batch(raw):
        receipt = await receive_oru(
            session=session,
            actor=actor,
            raw=raw,
            channel=channel,
            received_by=received_by,
            default_tz=default_tz,
        )
        return receipt.ack
    batch = split_batch(raw)
    acks = []
    for message in batch.messages:
        receipt = await receive_oru(
            session=session,
            actor=actor,
            raw=message,
            channel=channel,
            received_by=received_by,
            default_tz=default_tz,
        )
        acks.append(receipt.ack)
    return build_batch_ack(batch.envelope, acks)


async def receive_oru(
    *,
    session: AsyncSession,
    actor: Principal,
    raw: str,
    channel: str,
    received_by: uuid.UUID | None = None,
    default_tz: tzinfo = UTC,
) -> Receipt:
    """Stores and processes one message; returns it with its ACK (the caller commits, then sends)."""
    now = utc_now()
    # Stored first, as undecided: results filed below refer to it.
    row = Hl7Message(
        id=uuid.uuid4(),
        raw=storable(raw),
        received_at=now,
        channel=channel,
        received_by=received_by,
        status=MessageStatus.ERROR,
        ack_code=AckCode.ERROR.value,
    )
    session.add(row)
    header: Header | None = None
    try:
        parsed = parse_message(raw)
        header = read_header(parsed)
        _describe(row, header)
        await session.flush()
        check_oru_header(header)
        outcome = await _process(session, row, parsed, header, actor=actor, now=now, default_tz=default_tz)
    except Hl7Problem as problem:
        outcome = AckOutcome.from_problem(problem)
        row.status = MessageStatus.REJECTED if problem.ack is AckCode.REJECT else MessageStatus.ERROR
        row.reason = problem.reason
        row.error_code = int(problem.code)
    row.ack_code = outcome.code.value
    await session.flush()
    _audit_receipt(session, actor, row)
    return Receipt(row, build_ack(header, outcome, now=now))


async def _process(
    session: AsyncSession,
    row: Hl7Message,
    parsed: hl7.Message,
    header: Header,
    *,
    actor: Principal,
    now: datetime,
    default_tz: tzinfo,
) -> AckOutcome:
    await _one_at_a_time(session, header)
    original = await _filed_before(session, header, excluding=row.id)
    if original is not None:
        row.status = MessageStatus.DUPLICATE
        row.duplicate_of_id = original.id
        row.order_id, row.patient_id = original.order_id, original.patient_id
        row.reason = (
            f"repeat of message {original.id}, filed {original.received_at.isoformat()}; not filed again"
        )
        return AckOutcome.accepted("duplicate of a message already filed; not filed again")
    oru = read_oru(parsed, header, default_tz=default_tz)
    await hl7_filing.identify(session, row, oru)
    await hl7_filing.file_message(session, row, oru, actor=actor, now=now)
    row.status = MessageStatus.ACCEPTED
    await _close_earlier_attempts(session, header, row, now)
    return AckOutcome.accepted()


async def keep_unfiled(
    *,
    session: AsyncSession,
    actor: Principal,
    raw: str,
    channel: str,
    problem: Hl7Problem,
    received_by: uuid.UUID | None = None,
) -> Receipt:
    """Stores a message without trying to file it (a broken frame, or one whose filing failed)."""
    header: Header | None = None
    row = Hl7Message(
        id=uuid.uuid4(),
        raw=storable(raw),
        received_at=utc_now(),
        channel=channel,
        received_by=received_by,
        status=MessageStatus.REJECTED if problem.ack is AckCode.REJECT else MessageStatus.ERROR,
        ack_code=problem.ack.value,
        reason=problem.reason,
        error_code=int(problem.code),
    )
    try:
        header = read_header(parse_message(raw))
        _describe(row, header)
    except Hl7Problem:
        header = None  # not even a readable MSH: the ACK goes out without the sender's details
    session.add(row)
    await session.flush()
    _audit_receipt(session, actor, row)
    return Receipt(row, build_ack(header, AckOutcome.from_problem(problem), now=row.received_at))


def _describe(row: Hl7Message, header: Header) -> None:
    row.control_id = header.control_id[:199] or None
    row.sending_application = header.sending_application[:255] or None
    row.sending_facility = header.sending_facility[:255] or None
    row.message_type = f"{header.message_code}^{header.trigger_event}"[:32]
    row.version = header.version[:16] or None


def _same_sender(header: Header) -> list[ColumnElement[bool]]:
    # NULL-safe: a sender that leaves MSH-4 empty is stored with NULL there.
    return [
        Hl7Message.control_id == header.control_id,
        Hl7Message.sending_application.is_not_distinct_from(header.sending_application or None),
        Hl7Message.sending_facility.is_not_distinct_from(header.sending_facility or None),
    ]


async def _one_at_a_time(session: AsyncSession, header: Header) -> None:
    """Serialises messages with one sender and control id, so that a repeat sees the first one filed."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        key = f"hl7|{header.sending_application}|{header.sending_facility}|{header.control_id}"
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
    # SQLite: embedded transactions are BEGIN IMMEDIATE, already one at a time.


async def _filed_before(session: AsyncSession, header: Header, *, excluding: uuid.UUID) -> Hl7Message | None:
    filed = (Hl7Message.status == MessageStatus.ACCEPTED) | (
        (Hl7Message.status == MessageStatus.RESOLVED) & (Hl7Message.resolution == Resolution.REPROCESSED)
    )
    query = (
        select(Hl7Message)
        .where(*_same_sender(header), filed, Hl7Message.id != excluding)
        .order_by(Hl7Message.received_at)
        .limit(1)
    )
    return await session.scalar(query)


async def _close_earlier_attempts(
    session: AsyncSession, header: Header, row: Hl7Message, now: datetime
) -> None:
    """Earlier copies of this message waiting in the inbox are settled by this one being filed."""
    earlier = await session.scalars(
        select(Hl7Message).where(
            *_same_sender(header),
            Hl7Message.status.in_([MessageStatus.ERROR, MessageStatus.REJECTED]),
            Hl7Message.id != row.id,
        )
    )
    for message in earlier:
        message.status = MessageStatus.RESOLVED
        message.resolution = Resolution.RETRANSMITTED
        message.resolution_note = f"filed when the sender sent it again (message {row.id})"
        message.resolved_at = now


def _audit_receipt(session: AsyncSession, actor: Principal, row: Hl7Message) -> None:
    audit.record(
        session,
        actor=actor,
        action="receive",
        resource_type="hl7_message",
        resource_id=row.id,
        patient_id=row.patient_id,
        outcome="success" if row.status in (MessageStatus.ACCEPTED, MessageStatus.DUPLICATE) else "failure",
        detail={
            "channel": row.channel,
            "ack": row.ack_code,
            "status": row.status.value,
            "control_id": row.control_id,
            "sending_application": row.sending_application,
            "reason": row.reason,
        },
    )
