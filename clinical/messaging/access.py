"""Who may take part in messages: patients in their own conversations, staff in any; never billing."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import require_role
from clinical.messaging.models import MessageThread
from core.access import load_in_scope
from core.principal import STAFF_ROLES, Principal, Role

RESOURCE = "message_thread"
MESSAGING_ROLES = STAFF_ROLES | {Role.PATIENT}


def require_messaging_role(session: AsyncSession, actor: Principal, *, action: str) -> None:
    """Forbidden (audited) for roles that have no part in clinical conversations (billing)."""
    require_role(session, actor, MESSAGING_ROLES, action=action, resource_type=RESOURCE)


async def load_thread(
    session: AsyncSession, actor: Principal, thread_id: uuid.UUID, *, action: str, for_update: bool = False
) -> MessageThread:
    """The thread, if it exists and the caller may see its patient."""
    require_messaging_role(session, actor, action=action)
    return await load_in_scope(
        session,
        actor,
        MessageThread,
        thread_id,
        action=action,
        resource_type=RESOURCE,
        missing=f"There is no conversation with id {thread_id}.",
        for_update=for_update,
        message="Patients may only read and write their own conversations.",
    )
