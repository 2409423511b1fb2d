"""The audit log on the real PostgreSQL: signed appends without a lock, sealing, failed attempts."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from core.audit import service as audit
from core.audit.models import AuditEvent, AuditSeal
from core.audit.sequencer import seal_all, seal_pending
from core.audit.verify import verify_chain
from core.errors import Conflict
from core.sessions import transaction
from tests.core.audit_support import GUARD_S, KEYS, NURSE, record, seal_everything, sealed_counts


class RefusedAtCommit(Exception):
    """A failure after the audit entries were appended, before the transaction committed."""


def refuse_commit(_session: object) -> None:
    raise RefusedAtCommit("refused after the entries were appended")


async def test_entries_are_signed_sealed_and_verify(audit_sessions) -> None:
    patient_id = uuid.uuid4()
    for action in ("read", "update", "read"):
        await record(audit_sessions, patient_id=patient_id, action=action)
    await seal_everything(audit_sessions)
    async with audit_sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.seq)
            )
        ).all()
        report = await verify_chain(session, KEYS)
    assert [r.action for r in rows] == ["read", "update", "read"]
    assert all(r.actor_id == NURSE.user_id and r.outcome == "success" for r in rows)
    assert all(r.key_id == KEYS.active.key_id and r.mac for r in rows)
    assert report.ok, report.reason
    assert report.checked >= 3 and report.pending == 0 and report.head.sequence >= 1


async def test_failed_transaction_is_recorded_as_failure(audit_sessions) -> None:
    patient_id = uuid.uuid4()
    with pytest.raises(Conflict):
        async with transaction(audit_sessions) as session:
            audit.record(
                session, actor=NURSE, action="update", resource_type="patient", patient_id=patient_id
            )
            raise Conflict("the record changed meanwhile")
    async with audit_sessions() as session:
        row = (await session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id))).one()
    assert row.outcome == "failure"
    assert row.detail["error"] == "conflict"


async def test_database_refuses_update_and_delete(audit_sessions) -> None:
    await record(audit_sessions, patient_id=uuid.uuid4())
    await seal_everything(audit_sessions)
    statements = [
        "UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events", "TRUNCATE audit_events",
        "UPDATE audit_seals SET key_id = 'forged'", "DELETE FROM audit_seals", "TRUNCATE audit_seals",
    ]  # fmt: skip
    for statement in statements:
        async with audit_sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_an_uncommitted_entry_holds_up_no_other_append(audit_sessions) -> None:
    """No global lock: while one transaction holds an appended entry uncommitted, others append and
    commit; the entry with the lower number commits last, and still is sealed in its place."""
    slow_patient, fast_patient = uuid.uuid4(), uuid.uuid4()
    async with audit_sessions() as slow:
        audit.record(slow, actor=NURSE, action="read", resource_type="patient", patient_id=slow_patient)
        # Inserted as at commit, but the transaction stays open.
        await slow.run_sync(lambda sync: audit.append_entries(sync, audit.take_pending(sync)))
        async with asyncio.timeout(GUARD_S):
            await record(audit_sessions, patient_id=fast_patient)
        await seal_all(sessions=audit_sessions, keys=KEYS)
        # The open transaction is the horizon: the later entry, committed, waits behind it.
        assert await _sealed(audit_sessions, fast_patient) is False
        await slow.commit()
    await seal_everything(audit_sessions)
    assert await _sealed(audit_sessions, slow_patient) and await _sealed(audit_sessions, fast_patient)
    async with audit_sessions() as session:
        seqs = dict(
            (await session.execute(
                select(AuditEvent.patient_id, AuditEvent.seq).where(
                    AuditEvent.patient_id.in_([slow_patient, fast_patient])
                )
            )).all()
        )  # fmt: skip
        report = await verify_chain(session, KEYS)
    assert seqs[slow_patient] < seqs[fast_patient]
    assert report.ok, report.reason


async def test_many_sessions_append_at_once_and_every_entry_is_sealed_once(audit_sessions) -> None:
    patient_id = uuid.uuid4()
    refused = 5

    async def refused_at_commit() -> None:
        # The entry is inserted, then a check later in the same commit refuses it: its number is lost.
        with pytest.raises(RefusedAtCommit):
            async with transaction(audit_sessions) as session:
                audit.record(
                    session, actor=NURSE, action="update", resource_type="patient", patient_id=patient_id
                )
                # A session's own listeners run after its class's, so after the entries are inserted.
                event.listen(session.sync_session, "before_commit", refuse_commit)

    first_seq = await _next_seq(audit_sessions)
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(
            *(record(audit_sessions, patient_id=patient_id) for _ in range(40)),
            *(refused_at_commit() for _ in range(refused)),
        )
    await seal_everything(audit_sessions)
    async with audit_sessions() as session:
        outcomes = (
            await session.execute(
                select(AuditEvent.outcome, func.count())
                .where(AuditEvent.patient_id == patient_id)
                .group_by(AuditEvent.outcome)
            )
        ).all()
        numbered = await session.scalar(select(func.count()).where(AuditEvent.seq >= first_seq))
        report = await verify_chain(session, KEYS)
    assert dict(outcomes) == {"success": 40, "failure": refused}
    # Each refused commit used one number that no committed entry holds, and only those: every gap
    # is a transaction that rolled back (its attempt is on the record as the failure above).
    used = await _next_seq(audit_sessions) - first_seq - 1
    assert used - numbered == refused
    assert report.ok, report.reason
    assert await sealed_counts(audit_sessions) == (report.checked, report.checked)


async def test_two_sequencers_at_once_seal_each_entry_once(audit_sessions, audit_engine_factory) -> None:
    for _ in range(30):
        await record(audit_sessions, patient_id=uuid.uuid4())
    others = [audit_engine_factory() for _ in range(3)]
    async with asyncio.timeout(GUARD_S):
        await asyncio.gather(*(seal_everything(sessions) for sessions in [audit_sessions, *others]))
    async with audit_sessions() as session:
        report = await verify_chain(session, KEYS)
    assert report.ok and report.pending == 0, report.reason
    assert await sealed_counts(audit_sessions) == (report.checked, report.checked)


class _CrashingKeyring:
    """The sequencer's process dies while it signs the seal: after reading and hashing the entries."""

    def __init__(self) -> None:
        self.active = self
        self.key_id = KEYS.active.key_id

    def get(self, key_id: str | None):
        return KEYS.get(key_id)

    def mac(self, *_args: object) -> str:
        raise SystemExit("the sequencer's process was killed")


async def test_a_sequencer_that_crashes_mid_seal_leaves_nothing_half_done(audit_sessions) -> None:
    await seal_everything(audit_sessions)
    for _ in range(5):
        await record(audit_sessions, patient_id=uuid.uuid4())
    before = await sealed_counts(audit_sessions)
    async with asyncio.timeout(GUARD_S):
        # Until the pass finds the entries below the horizon (see seal_everything) and dies sealing them.
        while await _dies_sealing(audit_sessions) is False:  # noqa: ASYNC110 - only the database knows
            await asyncio.sleep(0.05)
    assert await sealed_counts(audit_sessions) == before
    # A restarted sequencer seals what the dead one had read, once.
    await seal_everything(audit_sessions)
    async with audit_sessions() as session:
        report = await verify_chain(session, KEYS)
    assert report.ok and report.pending == 0, report.reason


async def _dies_sealing(sessions) -> bool:
    try:
        await seal_pending(sessions=sessions, keys=_CrashingKeyring())  # type: ignore[arg-type]
    except SystemExit:
        return True
    return False


async def _sealed(sessions, patient_id: uuid.UUID) -> bool:
    async with sessions() as session:
        entry = (
            await session.execute(
                select(AuditEvent.txid, AuditEvent.seq).where(AuditEvent.patient_id == patient_id)
            )
        ).one()
        head = await session.scalar(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1))
    return head is not None and (entry.txid, entry.seq) <= (head.last_txid, head.last_seq)


async def _next_seq(sessions) -> int:
    """Takes a number from the entries' sequence (as a rolled-back insert would)."""
    async with sessions() as session:
        return int(
            await session.scalar(text("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))"))
        )
