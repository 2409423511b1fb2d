"""The sequencer: seals committed audit entries into the chain, in order, in batches.

Each pass takes the entries after the newest seal, in (txid, seq) order and only below the horizon
(`core.audit.horizon`: nothing can commit before them anymore), and writes one seal over them: how
many, the last one's (txid, seq), the SHA-256 over their leaves, and an HMAC over all of that and
the previous seal's HMAC. Appenders never wait for it; it runs in `ownat worker` and `ownat dev`.

Any number of sequencers may run: on PostgreSQL a pass first tries a transaction-scoped advisory
lock and leaves the work to whoever holds it, and the seal's number is the primary key, so two
passes that read the same head cannot both write the next seal. A crash before commit leaves no
seal; the next pass starts from the same head. Seq numbers that never show up are transactions
that rolled back after taking them; the seal covers every entry of its range that committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.entries import content_of, leaf_hash
from core.audit.horizon import below_horizon
from core.audit.keys import AuditKeyring, Purpose
from core.audit.models import GENESIS_MAC, AuditEvent, AuditSeal
from core.audit.seals import ENTRY_COLUMNS, chain_order_after, seal_message
from core.db import utc_now

log = logging.getLogger(__name__)

# Large enough that one seal a second keeps up with thousands of audited requests a second, small
# enough that a pass holds its transaction for a fraction of a second.
BATCH_SIZE = 5_000
# Only one sequencer works at a time; the other passes skip. Any constant shared by all processes.
SEQUENCER_LOCK_KEY = 0x0A0D5E


@dataclass(frozen=True, slots=True)
class SealSummary:
    number: int
    entries: int
    size: int
    unverified: int  # entries whose MAC did not verify when they were sealed (see the log)


async def seal_pending(
    *, sessions: async_sessionmaker[AsyncSession], keys: AuditKeyring, limit: int = BATCH_SIZE
) -> SealSummary | None:
    """Seals up to `limit` committed entries after the head; None when there was nothing to seal."""
    # A plain unit of work (commit on success, rollback on error) rather than
    # core.sessions.transaction: a pass records no audit entries and has no after-commit work,
    # and core.sessions builds on core.audit, which must not depend on it in turn.
    async with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            taken = await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY}
            )
            if not taken:
                return None
        head = await session.scalar(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1))
        query = select(*ENTRY_COLUMNS).where(below_horizon(dialect))
        if head is not None:
            query = query.where(chain_order_after(head.last_txid, head.last_seq))
        rows = (
            (await session.execute(query.order_by(AuditEvent.txid, AuditEvent.seq).limit(limit)))
            .mappings()
            .all()
        )
        if not rows:
            return None
        # Hashing thousands of entries is CPU work: a thread keeps the event loop answering meanwhile.
        digest, unverified = await asyncio.to_thread(_digest, rows, keys)
        seal = _next_seal(head, rows, digest, keys)
        session.add(seal)
    if unverified:
        log.error("audit seal %d took in %d entries whose MAC does not verify", seal.number, unverified)
    return SealSummary(seal.number, seal.entries, seal.size, unverified)


def _digest(rows: Any, keys: AuditKeyring) -> tuple[str, int]:
    digest, unverified = hashlib.sha256(), 0
    for row in rows:
        digest.update(leaf_hash(row))
        key = keys.get(row["key_id"])
        if row["mac"] is not None and (
            key is None or not key.verifies(Purpose.ENTRY, content_of(row), row["mac"])
        ):
            unverified += 1
    return digest.hexdigest(), unverified


def _next_seal(head: AuditSeal | None, rows: Any, digest: str, keys: AuditKeyring) -> AuditSeal:
    last = rows[-1]
    seal = AuditSeal(
        number=(head.number if head else 0) + 1,
        last_txid=last["txid"],
        last_seq=last["seq"],
        entries=len(rows),
        size=(head.size if head else 0) + len(rows),
        digest=digest,
        sealed_at=utc_now(),
        key_id=keys.active.key_id,
        prev_mac=head.mac if head else GENESIS_MAC,
    )
    seal.mac = keys.active.mac(Purpose.SEAL, seal_message(seal))
    return seal


async def seal_all(*, sessions: async_sessionmaker[AsyncSession], keys: AuditKeyring) -> int:
    """Seals until nothing sealable is left (or another sequencer holds the turn); returns how many entries."""
    sealed = 0
    while (summary := await seal_pending(sessions=sessions, keys=keys)) is not None:
        sealed += summary.entries
    return sealed


async def run_sequencer(
    *, sessions: async_sessionmaker[AsyncSession], keys: AuditKeyring, interval_s: float, stop: asyncio.Event
) -> None:
    """Seals every `interval_s` until `stop` is set; a failed pass is logged and the next one tries again."""
    while not stop.is_set():
        try:
            await seal_all(sessions=sessions, keys=keys)
        except Exception:
            log.exception("sealing the audit log failed; trying again in %.1f s", interval_s)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval_s):
                await stop.wait()
