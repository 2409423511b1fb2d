"""The append-only audit log of who did what to which resource and patient: entries signed by their
writer, sealed into an HMAC chain by the sequencer, verified against checkpoints kept elsewhere.

The front door for other packages: `record()` for services (`from core import audit`, then
`audit.record(...)`), `RowAudit` and `record_listed()` for their entries about rows and lists, the hooks `core.sessions` writes queued entries with at commit, the keys,
the administrators' reads and checks, and the sequencer that `ownat worker` runs.
"""

from __future__ import annotations

from core.audit.about import RowAudit, record_listed
from core.audit.context import client_address_var
from core.audit.integrity import check_log, export_checkpoint
from core.audit.keys import AuditKey, AuditKeyring

# Exposed for joins: the privacy access log and the consult recording consent read entries directly.
from core.audit.models import AuditEvent
from core.audit.queries import MAX_PAGE_SIZE, list_events
from core.audit.schemas import AuditFilter, AuditPage, ChainReportRead, Checkpoint
from core.audit.sequencer import run_sequencer
from core.audit.service import KEYRING_KEY, PENDING_KEY, append_entries, mark_failed, record, take_pending

__all__ = [
    "KEYRING_KEY",
    "MAX_PAGE_SIZE",
    "PENDING_KEY",
    "AuditEvent",
    "AuditFilter",
    "AuditKey",
    "AuditKeyring",
    "AuditPage",
    "ChainReportRead",
    "Checkpoint",
    "RowAudit",
    "append_entries",
    "check_log",
    "client_address_var",
    "export_checkpoint",
    "list_events",
    "mark_failed",
    "record",
    "record_listed",
    "run_sequencer",
    "take_pending",
]
