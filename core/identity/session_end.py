"""Ending every session of a user at once (sign out everywhere, a changed or reset password).

This is the simplest correct version: every refresh-token family of the user is revoked, so no
device can renew its access; access tokens already issued lapse within their lifetime
(`OWNAT_ACCESS_TOKEN_TTL_S`). The live session state of issue 15 replaces this module at merge.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utc_now
from core.identity.models import RefreshToken


async def end_user_sessions(session: AsyncSession, *, user_id: uuid.UUID, reason: str) -> None:
    """Revokes every refresh token of `user_id` that is not revoked yet, recording `reason`."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utc_now(), revoked_reason=reason[:64])
    )
