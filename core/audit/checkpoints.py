"""Checkpoints: the chain's head, signed, exported to be kept where the database's owner cannot reach.

The chain alone cannot show that its newest seals were removed together with their entries: what
is left still verifies. A checkpoint kept elsewhere can: the live chain must still hold its seal,
with the same HMAC, and so every entry that was sealed when it was issued.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.entries import canonical_json
from core.audit.keys import AuditKeyring, Purpose
from core.audit.models import AuditSeal
from core.audit.schemas import Checkpoint
from core.audit.seals import ChainHead
from core.db import utc_now


async def current_head(session: AsyncSession) -> ChainHead:
    """The newest seal, as a checkpoint states it."""
    seal = await session.scalar(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1))
    return ChainHead.of(seal)


def issue_checkpoint(head: ChainHead, keys: AuditKeyring) -> Checkpoint:
    """A checkpoint of `head`, signed with the active key."""
    unsigned = Checkpoint(
        sequence=head.sequence,
        entries=head.entries,
        head_hash=head.hash,
        sealed_at=head.sealed_at,
        issued_at=utc_now(),
        key_id=keys.active.key_id,
        signature="0" * 64,
    )
    signature = keys.active.mac(Purpose.CHECKPOINT, _message(unsigned))
    return unsigned.model_copy(update={"signature": signature})


def checkpoint_problem(checkpoint: Checkpoint, keys: AuditKeyring) -> str | None:
    """Why the checkpoint cannot be trusted, or None when its signature verifies."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return (
            f"the checkpoint is signed with key {checkpoint.key_id!r}, which is not configured here "
            "(add it to OWNAT_AUDIT_RETIRED_KEYS)"
        )
    if not key.verifies(Purpose.CHECKPOINT, _message(checkpoint), checkpoint.signature):
        return "the checkpoint's signature does not verify: it was altered or made with another key"
    return None


def _message(checkpoint: Checkpoint) -> bytes:
    return canonical_json(
        [
            checkpoint.format, checkpoint.sequence, checkpoint.entries, checkpoint.head_hash,
            _utc(checkpoint.sealed_at), _utc(checkpoint.issued_at), checkpoint.key_id,
        ]
    )  # fmt: skip


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)
