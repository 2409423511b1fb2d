"""Emailed single-use links (verify an address, reset a password): issued, emailed, redeemed once.

The link's token travels only in the email (through the outbox); the database keeps its SHA-256.
Issuing a link retires every earlier unused link of the same purpose, so only the newest works.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.db import utc_now
from core.errors import InvalidInput
from core.identity import tokens
from core.identity.models import AccountToken, AccountTokenPurpose, User

INVALID_LINK = (
    "This link does not work: it has expired, it was already used, or a newer one was sent. "
    "Ask for a new one."
)


class InvalidLink(InvalidInput):
    status, code, title = 400, "invalid-link", "Invalid or expired link"


async def email_link(
    session: AsyncSession,
    *,
    user: User,
    purpose: AccountTokenPurpose,
    ttl_s: int,
    event_type: outbox.EventType,
) -> None:
    """Issues a fresh link for `user` and queues the email carrying it."""
    now = utc_now()
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = tokens.new_link_token()
    expires_at = now + timedelta(seconds=ttl_s)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=tokens.hash_opaque_token(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    outbox.record(
        session,
        event_type=event_type,
        email=user.email,
        user_id=user.id,
        token=token,
        expires_at=expires_at,
    )
    await session.flush()


def email_notice(
    session: AsyncSession, *, email: str, event_type: outbox.EventType, user: User | None
) -> None:
    """Queues an account email without a link token (already registered, no account, password changed)."""
    outbox.record(session, event_type=event_type, email=email, user_id=user.id if user else None)


async def redeem_link(session: AsyncSession, *, token: str, purpose: AccountTokenPurpose) -> User:
    """The user of an unused, unexpired link, which is used up by this call; InvalidLink otherwise."""
    now = utc_now()
    # One statement marks it used only if nobody did before: two clicks at once redeem it once.
    user_id = await session.scalar(
        update(AccountToken)
        .where(
            AccountToken.token_hash == tokens.hash_opaque_token(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountToken.user_id)
    )
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise InvalidLink(INVALID_LINK)
    return user
