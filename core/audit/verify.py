"""Walks the seals and the entries under them, and reports the first that does not verify.

Caught: an entry changed or forged (its MAC, which needs the key), an entry removed, added or
renumbered under a seal (the seal's digest and count), a seal changed, removed or reordered (its
HMAC and its link to the one before). With a checkpoint kept elsewhere, also the removal of the
newest seals with their entries. Not caught: an entry removed before its seal (the sequencer runs
every second; see `core.audit.horizon` for what can hold it back).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.checkpoints import checkpoint_problem
from core.audit.entries import content_of, leaf_hash
from core.audit.keys import AuditKey, AuditKeyring, Purpose
from core.audit.legacy import GENESIS_HASH, legacy_hash
from core.audit.models import AuditEvent, AuditSeal
from core.audit.schemas import Checkpoint
from core.audit.seals import ENTRY_COLUMNS, ChainHead, chain_order_after, seal_message

PAGE_SIZE = 2_000


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    pending: int
    head: ChainHead
    first_broken_seq: int | None = None
    broken_seal: int | None = None
    reason: str | None = None
    checkpoint_sequence: int | None = None


class ChainBroken(Exception):
    def __init__(self, reason: str, *, seq: int | None = None, seal: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.seq, self.seal = reason, seq, seal


@dataclass(slots=True)
class _Walk:
    """What the walk has established so far."""

    keys: AuditKeyring
    checked: int = 0
    pending: int = 0
    head: ChainHead = field(default_factory=lambda: ChainHead.of(None))
    legacy_prev_hash: str = GENESIS_HASH
    seen_signed: bool = False
    checkpoint_seal: ChainHead | None = None


async def verify_chain(
    session: AsyncSession, keys: AuditKeyring, *, checkpoint: Checkpoint | None = None
) -> ChainReport:
    """Verifies every seal and entry; with a checkpoint, also that the chain still holds its head."""
    walk = _Walk(keys)
    try:
        if checkpoint is not None and (problem := checkpoint_problem(checkpoint, keys)):
            raise ChainBroken(problem)
        await _walk(session, walk, checkpoint)
        if checkpoint is not None:
            _compare(walk, checkpoint)
    except ChainBroken as broken:
        return ChainReport(
            False, walk.checked, walk.pending, walk.head, broken.seq, broken.seal, broken.reason,
            checkpoint.sequence if checkpoint else None,
        )  # fmt: skip
    return ChainReport(
        True,
        walk.checked,
        walk.pending,
        walk.head,
        checkpoint_sequence=checkpoint.sequence if checkpoint else None,
    )


async def _walk(session: AsyncSession, walk: _Walk, checkpoint: Checkpoint | None) -> None:
    entries = _Entries(session)
    async for seal in _seals(session):
        key = _check_link(seal, walk)
        sealed = await entries.through(seal.last_txid, seal.last_seq)
        # Entries first: when the digest was recomputed too, the altered entry is the finding to name.
        digest = await asyncio.to_thread(_check_entries, sealed, walk)
        if not key.verifies(Purpose.SEAL, seal_message(seal), seal.mac):
            raise ChainBroken(f"seal {seal.number} does not match its HMAC: it was altered", seal=seal.number)
        if len(sealed) != seal.entries:
            raise ChainBroken(
                f"seal {seal.number} covers {seal.entries} entries but {len(sealed)} are there now: "
                "entries were removed or inserted",
                seal=seal.number,
            )
        if digest != seal.digest:
            raise ChainBroken(
                f"the entries under seal {seal.number} differ from those sealed", seal=seal.number
            )
        walk.checked += len(sealed)
        walk.head = ChainHead.of(seal)
        if checkpoint is not None and seal.number == checkpoint.sequence:
            walk.checkpoint_seal = walk.head
    while pending := await entries.next_page():
        await asyncio.to_thread(_check_entries, pending, walk)
        walk.pending += len(pending)


def _check_link(seal: AuditSeal, walk: _Walk) -> AuditKey:
    """Checks the seal's place after the previous one; returns the key its HMAC must verify with."""
    expected = walk.head.sequence + 1
    if seal.number != expected:
        raise ChainBroken(f"seals {expected}..{seal.number - 1} are missing", seal=seal.number)
    if seal.prev_mac != walk.head.hash or seal.size != walk.head.entries + seal.entries:
        raise ChainBroken(f"seal {seal.number} does not follow seal {walk.head.sequence}", seal=seal.number)
    key = walk.keys.get(seal.key_id)
    if key is None:
        raise ChainBroken(
            f"seal {seal.number} is signed with key {seal.key_id!r}, which is not configured here",
            seal=seal.number,
        )
    return key


def _check_entries(rows: Sequence[RowMapping], walk: _Walk) -> str:
    """Checks each entry's MAC (or legacy link); returns the SHA-256 over their leaves."""
    digest = hashlib.sha256()
    for row in rows:
        problem = _entry_problem(row, walk)
        if problem:
            raise ChainBroken(problem, seq=row["seq"])
        digest.update(leaf_hash(row))
    return digest.hexdigest()


def _entry_problem(row: RowMapping, walk: _Walk) -> str | None:
    if row["mac"] is None:
        return _legacy_problem(row, walk)
    walk.seen_signed = True
    key = walk.keys.get(row["key_id"])
    if key is None:
        return f"the entry is signed with key {row['key_id']!r}, which is not configured here"
    if not key.verifies(Purpose.ENTRY, content_of(row), row["mac"]):
        return "the entry's content does not match its MAC: it was altered or forged"
    return None


def _legacy_problem(row: RowMapping, walk: _Walk) -> str | None:
    # Entries from before the keyed chain come first; one without a MAC after them was not written by Ownat.
    if walk.seen_signed:
        return "an entry without a MAC follows signed entries: it was not written by Ownat"
    if row["legacy_prev_hash"] != walk.legacy_prev_hash:
        return "the link to the previous entry (from before keyed signing) does not match"
    fields: dict[str, Any] = {**row, "prev_hash": row["legacy_prev_hash"]}
    if legacy_hash(fields) != row["legacy_hash"]:
        return "the entry's content does not match its hash (from before keyed signing)"
    walk.legacy_prev_hash = row["legacy_hash"]
    return None


def _compare(walk: _Walk, checkpoint: Checkpoint) -> None:
    if checkpoint.sequence > walk.head.sequence:
        raise ChainBroken(
            f"the chain ends at seal {walk.head.sequence} but the checkpoint holds seal {checkpoint.sequence}: "
            "the newest seals and their entries were removed"
        )
    seal = walk.checkpoint_seal if checkpoint.sequence else ChainHead.of(None)
    if seal is None or seal.hash != checkpoint.head_hash or seal.entries != checkpoint.entries:
        raise ChainBroken(
            f"seal {checkpoint.sequence} is not the one in the checkpoint: the log was rewritten up to it",
            seal=checkpoint.sequence,
        )


async def _seals(session: AsyncSession) -> AsyncIterator[AuditSeal]:
    after = 0
    while True:
        query = select(AuditSeal).where(AuditSeal.number > after).order_by(AuditSeal.number).limit(PAGE_SIZE)
        page = (await session.scalars(query)).all()
        for seal in page:
            yield seal
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].number


class _Entries:
    """The entries in chain order, read a page at a time and handed out by seal."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.buffer: list[RowMapping] = []
        self.after: tuple[int, int] = (-1, -1)
        self.exhausted = False

    async def next_page(self) -> list[RowMapping]:
        if self.buffer:
            page, self.buffer = self.buffer, []
            return page
        if self.exhausted:
            return []
        query = select(*ENTRY_COLUMNS).where(chain_order_after(*self.after))
        query = query.order_by(AuditEvent.txid, AuditEvent.seq).limit(PAGE_SIZE)
        page = list((await self.session.execute(query)).mappings().all())
        self.exhausted = len(page) < PAGE_SIZE
        if page:
            self.after = (page[-1]["txid"], page[-1]["seq"])
        return page

    async def through(self, txid: int, seq: int) -> list[RowMapping]:
        """Every entry up to and including (txid, seq) not handed out yet."""
        taken: list[RowMapping] = []
        while page := await self.next_page():
            cut = next(
                (i for i, row in enumerate(page) if (row["txid"], row["seq"]) > (txid, seq)), len(page)
            )
            taken.extend(page[:cut])
            if cut < len(page):
                self.buffer = page[cut:]
                break
        return taken
