"""Insurance is back-office work: billing clerks and administrators only, every access audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import require_role
from core.identity.principal import Principal, Role

MANAGERS = frozenset({Role.ADMIN, Role.BILLING})


def require_manager(
    session: AsyncSession, actor: Principal, *, action: str, resource_type: str, resource_id: object = None
) -> None:
    """Forbidden (audited) unless the caller is a billing clerk or an administrator."""
    require_role(
        session, actor, MANAGERS, action=action, resource_type=resource_type, resource_id=resource_id
    )
