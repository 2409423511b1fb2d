"""Self-service accounts: sign-up with email verification, a forgotten password reset by an emailed
link, a password change, and signing out everywhere.

No answer here tells whether an address has an account. Sign-up, a new verification link and a
forgotten password answer the same whatever the address, after the same work (sign-up hashes the
password either way), and the email sent to the address says what happened. Every flow is
throttled per address and per client, and audited. Functions only flush: the caller commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, outbox
from core.db import utc_now
from core.errors import InvalidInput, RateLimited
from core.identity import passwords
from core.identity.account_links import InvalidLink, email_link, email_notice, redeem_link
from core.identity.models import AccountTokenPurpose, User
from core.identity.revocation import TokenRevocations
from core.identity.schemas import PatientRegistration, TokenPair
from core.identity.service import (
    login_account_throttle_key,
    login_throttle_key,
    normalise_email,
    revoke_access_token,
    start_session,
)
from core.identity.session_end import end_user_sessions
from core.principal import Principal, Role
from core.rate_limit import RateLimiter
from core.settings import Settings

E = outbox.EventType


async def sign_up(
    *,
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    registration: PatientRegistration,
    client_address: str | None,
) -> User | None:
    """Creates an unverified patient account and emails its verification link. Returns None when the
    address is taken (its owner is emailed instead); the caller must answer the same either way."""
    email = normalise_email(registration.email)
    await _throttle_email(session, limiter, settings, action="sign-up", email=email, address=client_address)
    passwords.check_password_policy(
        registration.password,
        min_length=settings.password_min_length,
        email=email,
        full_name=registration.full_name,
    )
    # Hashed before looking the address up, so that both answers cost the same.
    password_hash = await passwords.hash_password(registration.password)
    existing = await session.scalar(select(User).where(User.email == email))
    if existing is not None:
        await _tell_owner(session, settings, existing)
        _audit(session, None, "sign-up", existing, outcome="failure", reason="address already registered")
        return None
    user = User(
        email=email,
        full_name=registration.full_name,
        role=Role.PATIENT,
        patient_id=uuid.uuid4(),
        password_hash=password_hash,
    )
    try:
        # A savepoint: a simultaneous sign-up of the same address loses here without ending the unit.
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:
        return None
    await email_link(
        session,
        user=user,
        purpose=AccountTokenPurpose.VERIFY_EMAIL,
        ttl_s=settings.account_verify_link_ttl_s,
        event_type=E.ACCOUNT_VERIFY_EMAIL,
    )
    _audit(session, user.as_principal(), "sign-up", user)
    return user


async def resend_verification(
    *, session: AsyncSession, settings: Settings, limiter: RateLimiter, email: str, client_address: str | None
) -> None:
    """Emails a new verification link, or tells the address why there is none."""
    email = normalise_email(email)
    await _throttle_email(
        session, limiter, settings, action="resend-verification", email=email, address=client_address
    )
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        email_notice(session, email=email, event_type=E.ACCOUNT_NOT_FOUND, user=None)
    else:
        await _tell_owner(session, settings, user)
    _audit(session, None, "resend-verification", user, email=email)


async def verify_email(
    *, session: AsyncSession, settings: Settings, limiter: RateLimiter, token: str, client_address: str | None
) -> User:
    """Marks the address of the link's account as verified; InvalidLink if the link does not work."""
    await _throttle_links(session, limiter, settings, action="verify-email", address=client_address)
    user = await _redeem(session, token, AccountTokenPurpose.VERIFY_EMAIL, action="verify-email")
    if user.email_verified_at is None:
        user.email_verified_at = utc_now()
    await session.flush()
    _audit(session, user.as_principal(), "verify-email", user)
    return user


async def request_password_reset(
    *, session: AsyncSession, settings: Settings, limiter: RateLimiter, email: str, client_address: str | None
) -> None:
    """Emails a reset link to an active account's address, or tells the address there is no account."""
    email = normalise_email(email)
    await _throttle_email(
        session, limiter, settings, action="password-reset-request", email=email, address=client_address
    )
    user = await session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        email_notice(session, email=email, event_type=E.ACCOUNT_NOT_FOUND, user=user)
        _audit(
            session,
            None,
            "password-reset-request",
            user,
            outcome="failure",
            email=email,
            reason="no active account",
        )
        return
    await email_link(
        session,
        user=user,
        purpose=AccountTokenPurpose.RESET_PASSWORD,
        ttl_s=settings.account_reset_link_ttl_s,
        event_type=E.ACCOUNT_PASSWORD_RESET,
    )
    _audit(session, None, "password-reset-request", user, email=email)


async def reset_password(
    *,
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    token: str,
    new_password: str,
    client_address: str | None,
) -> None:
    """Sets a new password through a reset link and ends every session of the account."""
    await _throttle_links(session, limiter, settings, action="password-reset", address=client_address)
    user = await _redeem(session, token, AccountTokenPurpose.RESET_PASSWORD, action="password-reset")
    # A refused password rolls the unit back, so the link still works for a better one.
    await _set_password(session, settings, user, new_password, reason="password reset")
    # Only the owner of the address could open the link: it is verified now if it was not, and a
    # lock-out by someone guessing the old password is lifted (this is the owner's way back in).
    if user.email_verified_at is None:
        user.email_verified_at = utc_now()
    await limiter.reset(login_account_throttle_key(user.email))
    await limiter.reset(login_throttle_key(user.email, client_address))
    _audit(session, user.as_principal(), "password-reset", user)


async def change_password(
    *,
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    actor: Principal,
    current_password: str,
    new_password: str,
    client_address: str | None,
    user_agent: str | None,
) -> TokenPair:
    """Changes the caller's password (the current one is checked), ends every other session and
    returns a fresh token pair for this one."""
    decision = await limiter.hit(
        f"password-change:{actor.user_id}",
        limit=settings.login_attempts_per_account,
        window_s=settings.login_window_s,
    )
    user = await session.get(User, actor.user_id)
    assert user is not None  # the access token names an existing user
    if not decision.allowed:
        _audit(session, actor, "password-change", user, outcome="denied", limit="account")
        raise RateLimited(
            "Too many attempts; wait before trying again.", retry_after_s=decision.retry_after_s
        )
    if not await passwords.verify_password(user.password_hash, current_password):
        _audit(session, actor, "password-change", user, outcome="failure", reason="wrong password")
        # A 422, not a 401: the caller is signed in; only the field is wrong.
        raise InvalidInput("The current password is incorrect.", extra={"field": "current_password"})
    await _set_password(session, settings, user, new_password, reason="password changed")
    _audit(session, actor, "password-change", user)
    return await start_session(
        session, user=user, settings=settings, address=client_address, agent=user_agent
    )


async def sign_out_everywhere(
    *, session: AsyncSession, revocations: TokenRevocations, settings: Settings, actor: Principal
) -> None:
    """Ends every session of the caller, this one included."""
    await end_user_sessions(session, user_id=actor.user_id, reason="signed out everywhere")
    await revoke_access_token(revocations=revocations, settings=settings, actor=actor)
    user = await session.get(User, actor.user_id)
    _audit(session, actor, "sign-out-everywhere", user)


async def _redeem(session: AsyncSession, token: str, purpose: AccountTokenPurpose, *, action: str) -> User:
    try:
        return await redeem_link(session, token=token, purpose=purpose)
    except InvalidLink:
        _audit(session, None, action, None, outcome="failure", reason="invalid link")
        raise


async def _set_password(
    session: AsyncSession, settings: Settings, user: User, new_password: str, *, reason: str
) -> None:
    passwords.check_password_policy(
        new_password, min_length=settings.password_min_length, email=user.email, full_name=user.full_name
    )
    user.password_hash = await passwords.hash_password(new_password)
    user.password_changed_at = utc_now()
    await end_user_sessions(session, user_id=user.id, reason=reason)
    email_notice(session, email=user.email, event_type=E.ACCOUNT_PASSWORD_CHANGED, user=user)
    await session.flush()


async def _tell_owner(session: AsyncSession, settings: Settings, user: User) -> None:
    # An unconfirmed sign-up gets a fresh link; anyone else is told they already have an account.
    if user.email_verified_at is None and user.is_active:
        await email_link(
            session,
            user=user,
            purpose=AccountTokenPurpose.VERIFY_EMAIL,
            ttl_s=settings.account_verify_link_ttl_s,
            event_type=E.ACCOUNT_VERIFY_EMAIL,
        )
    else:
        email_notice(session, email=user.email, event_type=E.ACCOUNT_ALREADY_REGISTERED, user=user)


async def _throttle_email(
    session: AsyncSession,
    limiter: RateLimiter,
    settings: Settings,
    *,
    action: str,
    email: str,
    address: str | None,
) -> None:
    # One budget per address across sign-up, new links and resets, so nobody floods an inbox by
    # switching between them; and one per client, so nobody sprays many addresses.
    limits = [("client", address, settings.account_emails_per_client)] if address else []
    limits.append(("address", email, settings.account_emails_per_address))
    for kind, value, limit in limits:
        decision = await limiter.hit(
            f"account-mail:{kind}:{value}", limit=limit, window_s=settings.account_window_s
        )
        if not decision.allowed:
            _audit(session, None, action, None, outcome="denied", email=email, limit=kind)
            raise RateLimited(
                "Too many requests for this address; wait before trying again.",
                retry_after_s=decision.retry_after_s,
            )


async def _throttle_links(
    session: AsyncSession, limiter: RateLimiter, settings: Settings, *, action: str, address: str | None
) -> None:
    # Link tokens carry 256 random bits: guessing is hopeless, but nobody gets to try at speed.
    if not address:
        return
    decision = await limiter.hit(
        f"account-link:client:{address}",
        limit=settings.login_attempts_per_address,
        window_s=settings.login_window_s,
    )
    if not decision.allowed:
        _audit(session, None, action, None, outcome="denied", limit="client")
        raise RateLimited(
            "Too many attempts; wait before trying again.", retry_after_s=decision.retry_after_s
        )


_audit = audit.RowAudit("user")


async def erase_account(session: AsyncSession, *, actor: Principal, user_id: uuid.UUID) -> str:
    """Closes an account for an erasure request: every session ends, and its email, name and password
    are removed (the row stays: the record's history refers to it). Returns the email it had."""
    user = await session.get(User, user_id)
    assert user is not None  # the caller found it through the patient record
    email = user.email
    await end_user_sessions(session, user_id=user.id, reason="account erased")
    user.email = f"erased-{user.id}@erased.invalid"
    user.full_name = "Erased account"
    # No password can match a hash that is not one.
    user.password_hash = "!erased"  # noqa: S105 (not a password: a marker no password matches)
    user.is_active = False
    user.email_verified_at = None
    await session.flush()
    _audit(session, actor, "erase", user)
    return email
