"""Which transaction wrote an entry, and up to where entries can be sealed: the dialect-specific part.

Entries take their `seq` from a sequence when they are inserted, but transactions commit in any
order: an entry with a lower `seq` may commit after one with a higher `seq` has been sealed. Sealing
in `seq` order up to "what is visible now" would then skip it for good, or (sealed later) break the
order. So on PostgreSQL each entry records its transaction's id (`pg_current_xact_id()`, a 64-bit id
that never wraps) and the sequencer seals in (txid, seq) order, only entries whose transaction is
older than the oldest one still running (`pg_snapshot_xmin` of the statement's own snapshot). Every
such transaction has ended: committed, and then visible to that same statement, or rolled back, and
then never visible. Any transaction that can still commit has a txid at or above the horizon and so
sorts after everything sealed. A clock-based horizon ("entries older than N seconds") was rejected:
a transaction delayed past N (a lock wait, a slow disk, a paused process) would be skipped silently.
The price of the txid horizon is that one long open write transaction holds sealing back until it
ends; nothing is lost, the entries wait (PostgreSQL's `idle_in_transaction_session_timeout` bounds
a forgotten one).

SQLite (the embedded mode) has one writer at a time, and a new entry's rowid is above every
committed one, so every committed entry is final: txid is 0 and the order is plain `seq`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ColumnElement, Text, cast, func, literal, true

from core.audit.models import AuditEvent


def current_txid(dialect: str) -> ColumnElement[int]:
    """The inserting transaction's id, as an SQL expression evaluated by the database."""
    if dialect == "postgresql":
        return cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    return literal(0, BigInteger)


def below_horizon(dialect: str) -> ColumnElement[bool]:
    """True for entries whose transaction has ended, so that nothing can commit before them anymore."""
    if dialect == "postgresql":
        xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
        return AuditEvent.txid < cast(cast(xmin, Text), BigInteger)
    return true()
