"""What a seal's HMAC covers, and the chain's head as a checkpoint sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, tuple_

from core.audit.entries import LEAF_FIELDS, canonical_json
from core.audit.models import GENESIS_MAC, AuditEvent, AuditSeal

# What sealing and verification read of each entry: its leaf, and the old link of legacy entries.
ENTRY_COLUMNS = [getattr(AuditEvent, name) for name in (*LEAF_FIELDS, "legacy_prev_hash")]


def chain_order_after(txid: int, seq: int) -> ColumnElement[bool]:
    """Entries after (txid, seq) in the chain's order."""
    return tuple_(AuditEvent.txid, AuditEvent.seq) > tuple_(txid, seq)


def seal_message(seal: AuditSeal) -> bytes:
    """The bytes a seal's HMAC covers: its place, its range, its entries' digest and the previous HMAC."""
    return canonical_json(
        [
            seal.number, seal.prev_mac, seal.last_txid, seal.last_seq, seal.entries, seal.size,
            seal.digest, seal.sealed_at, seal.key_id,
        ]
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest seal: its number, the entries sealed up to it, its HMAC (the head hash)."""

    sequence: int
    entries: int
    hash: str
    sealed_at: datetime | None

    @classmethod
    def of(cls, seal: AuditSeal | None) -> ChainHead:
        if seal is None:
            return cls(0, 0, GENESIS_MAC, None)
        return cls(seal.number, seal.size, seal.mac, seal.sealed_at)
