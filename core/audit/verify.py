"""Walks the chain and reports the first entry whose hash or link does not hold."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.chain import CHAINED_FIELDS, entry_hash
from core.audit.models import GENESIS_HASH, AuditEvent

BATCH_SIZE = 2_000


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recomputes every hash in order; an edited, inserted or deleted row breaks the chain there."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq)
        rows = (await session.scalars(query.limit(BATCH_SIZE))).all()
        for event in rows:
            problem = _problem_with(event, expected_seq, prev_hash)
            if problem:
                return ChainReport(False, checked, expected_seq - 1, prev_hash, event.seq, problem)
            expected_seq, prev_hash, checked = event.seq + 1, event.hash, checked + 1
        if len(rows) < BATCH_SIZE:
            return ChainReport(True, checked, expected_seq - 1, prev_hash)


def _problem_with(event: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    if event.seq != expected_seq:
        return f"entries {expected_seq}..{event.seq - 1} are missing"
    if event.prev_hash != prev_hash:
        return "the link to the previous entry does not match"
    fields = {name: getattr(event, name) for name in CHAINED_FIELDS}
    if entry_hash(fields) != event.hash:
        return "the entry's content does not match its hash"
    return None
