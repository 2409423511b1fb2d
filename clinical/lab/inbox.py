"""The HL7 inbox: messages that could not be filed wait here for an administrator to resolve them."""

from __future__ import annotations

import uuid
from datetime import UTC, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.lab import hl7_filing
from clinical.lab.exceptions import LabOrderNotFound, MessageNotFound, MessageNotOpen
from clinical.lab.hl7.errors import Hl7Problem
from clinical.lab.hl7.message import check_oru_header, parse_message, read_header
from clinical.lab.hl7.oru import read_oru
from clinical.lab.models import Hl7Message, LabOrder
from clinical.lab.schemas import Hl7MessageSummary, Resolve
from clinical.lab.terms import OPEN_MESSAGE_STATUSES, MessageStatus, Resolution
from core import audit
from core.db import utc_now
from core.errors import Conflict, Forbidden
from core.paging import Page, encode_cursor, newest_first, split_page
from core.principal import Principal, Role

MAX_PAGE_SIZE = 100


def _require_admin(actor: Principal) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators work the HL7 inbox.")


async def list_messages(
    *,
    session: AsyncSession,
    actor: Principal,
    status: MessageStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Hl7MessageSummary]:
    """Received messages, newest first, optionally of one status (`error` is the work queue)."""
    _require_admin(actor)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Hl7Message)
    if status is not None:
        query = query.where(Hl7Message.status == status)
    query = newest_first(
        query, time_column=Hl7Message.received_at, id_column=Hl7Message.id, cursor=cursor, limit=limit
    )
    page, more = split_page(list(await session.scalars(query)), limit=limit)
    patients = {row.patient_id for row in page}
    # One entry per patient named by the listed messages (and one for those naming nobody we know).
    for patient_id in patients or {None}:
        audit.record(
            session,
            actor=actor,
            action="list",
            resource_type="hl7_message",
            patient_id=patient_id,
            detail={"message_ids": [str(r.id) for r in page if r.patient_id == patient_id]},
        )
    return Page(
        items=[Hl7MessageSummary.model_validate(row) for row in page],
        next_cursor=encode_cursor(page[-1].received_at, page[-1].id) if more else None,
    )


async def get_message(*, session: AsyncSession, actor: Principal, message_id: uuid.UUID) -> Hl7Message:
    """One message with its raw text."""
    _require_admin(actor)
    message = await session.get(Hl7Message, message_id)
    if message is None:
        raise MessageNotFound(f"There is no HL7 message with id {message_id}.")
    _audit(session, actor, "read", message)
    return message


async def resolve_message(
    *,
    session: AsyncSession,
    actor: Principal,
    message_id: uuid.UUID,
    resolve: Resolve,
    default_tz: tzinfo = UTC,
) -> Hl7Message:
    """Reprocesses a waiting message (against a chosen order, or as sent) or dismisses it with a note."""
    _require_admin(actor)
    message = await session.scalar(select(Hl7Message).where(Hl7Message.id == message_id).with_for_update())
    if message is None:
        raise MessageNotFound(f"There is no HL7 message with id {message_id}.")
    if message.status not in OPEN_MESSAGE_STATUSES:
        raise MessageNotOpen(
            f"Message {message_id} is {message.status.value}; only waiting messages are resolved."
        )
    now = utc_now()
    if resolve.action == "reprocess":
        await _reprocess(session, actor, message, resolve.order_id, default_tz)
        message.resolution = Resolution.REPROCESSED
    else:
        message.resolution = Resolution.DISMISSED
    message.status = MessageStatus.RESOLVED
    message.resolution_note = resolve.note
    message.resolved_by = actor.user_id
    message.resolved_at = now
    await session.flush()
    _audit(session, actor, "resolve", message, resolution=message.resolution.value, order_id=resolve.order_id)
    return message


async def _reprocess(
    session: AsyncSession,
    actor: Principal,
    message: Hl7Message,
    order_id: uuid.UUID | None,
    default_tz: tzinfo,
) -> None:
    override: LabOrder | None = None
    if order_id is not None:
        override = await session.scalar(select(LabOrder).where(LabOrder.id == order_id).with_for_update())
        if override is None:
            raise LabOrderNotFound(f"There is no lab order with id {order_id}.")
    try:
        parsed = parse_message(message.raw)
        header = read_header(parsed)
        check_oru_header(header)
        oru = read_oru(parsed, header, default_tz=default_tz)
        await hl7_filing.identify(session, message, oru)
        await hl7_filing.file_message(
            session, message, oru, actor=actor, now=utc_now(), override_order=override
        )
    except Hl7Problem as problem:
        # Nothing is kept: the request's transaction rolls back and the message still waits.
        raise Conflict(
            f"The message still cannot be filed: {problem.reason}.", extra={"hl7_error": int(problem.code)}
        ) from problem


_audit = audit.RowAudit("hl7_message")
