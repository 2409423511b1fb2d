"""Checking the log and exporting checkpoints: for administrators and the host's operator, audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.checkpoints import current_head, issue_checkpoint
from core.audit.keys import AuditKeyring
from core.audit.schemas import Checkpoint
from core.audit.verify import ChainReport, verify_chain
from core.errors import Forbidden
from core.principal import Principal, Role

RESOURCE = "audit_chain"


def _require_admin(actor: Principal | None) -> None:
    # None is the host's operator (`ownat audit-verify`), who holds the database and the key anyway.
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators may check the audit log.")


async def check_log(
    *,
    session: AsyncSession,
    actor: Principal | None,
    keys: AuditKeyring,
    checkpoint: Checkpoint | None = None,
) -> ChainReport:
    """Verifies the whole chain, against `checkpoint` when one is given; the check is on the record too."""
    _require_admin(actor)
    report = await verify_chain(session, keys, checkpoint=checkpoint)
    audit.record(
        session,
        actor=actor,
        action="verify",
        resource_type=RESOURCE,
        resource_id=report.head.sequence,
        detail={
            "ok": report.ok,
            "checked": report.checked,
            "pending": report.pending,
            "checkpoint": report.checkpoint_sequence,
            "reason": report.reason,
        },
    )
    return report


async def export_checkpoint(
    *, session: AsyncSession, actor: Principal | None, keys: AuditKeyring
) -> Checkpoint:
    """A signed checkpoint of the chain's head, to be kept outside the database."""
    _require_admin(actor)
    checkpoint = issue_checkpoint(await current_head(session), keys)
    audit.record(
        session,
        actor=actor,
        action="export",
        resource_type=RESOURCE,
        resource_id=checkpoint.sequence,
        detail={"entries": checkpoint.entries, "head_hash": checkpoint.head_hash},
    )
    return checkpoint
