"""Accounts and sign-in: registration, staff accounts, login, refresh rotation, logout, administration.

Every function takes the caller's session and only flushes; the caller's unit of work commits.
Every write and every read of a user record is audited on that session.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from core import audit
from core.db import utc_now
from core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, RateLimited
from core.identity import passwords, tokens
from core.identity.models import RefreshToken, User
from core.identity.revocation import TokenRevocations
from core.identity.schemas import (
    PatientRegistration,
    StaffCreate,
    TokenPair,
    UserRead,
    UserUpdate,
)
from core.identity.session_end import end_family, end_token, end_user_sessions
from core.paging import Page, encode_cursor, oldest_first, split_page
from core.principal import Principal, Role
from core.rate_limit import RateLimiter
from core.settings import Settings

BAD_CREDENTIALS = "The email or password is incorrect."


class EmailNotVerified(Forbidden):
    """Told only to whoever knows the password: the account exists but its address is unconfirmed."""

    code, title = "email-not-verified", "Email address not confirmed"


MAX_PAGE_SIZE = 100


def normalise_email(email: str) -> str:
    """The form in which emails are stored and compared: NFC, trimmed, lower-case."""
    return unicodedata.normalize("NFC", email.strip()).lower()


async def register_patient(
    *, session: AsyncSession, registration: PatientRegistration, password_min_length: int
) -> User:
    """Creates a patient account directly, its address taken as verified (the demo, tests, operators),
    with a new id for the patient record it will own. Online sign-up is `account.sign_up`."""
    user = await _create_user(session, new=registration, role=Role.PATIENT, min_length=password_min_length)
    _audit_user(session, actor=user.as_principal(), action="register", row=user)
    return user


async def create_staff_user(
    *, session: AsyncSession, actor: Principal, staff: StaffCreate, password_min_length: int
) -> User:
    """Creates an admin, clinician or nurse account; only administrators may."""
    _require_admin(actor)
    if staff.role is Role.PATIENT:
        raise InvalidInput("Patients register themselves; staff accounts have a staff role.")
    user = await _create_user(session, new=staff, role=staff.role, min_length=password_min_length)
    _audit_user(session, actor=actor, action="create", row=user)
    return user


async def authenticate_login(
    *,
    session: AsyncSession,
    rate_limiter: RateLimiter,
    settings: Settings,
    email: str,
    password: str,
    client_address: str | None,
    user_agent: str | None,
) -> TokenPair:
    """Checks the credentials (after the rate limits) and starts a new refresh-token family."""
    email = normalise_email(email)
    await _throttle_login(
        session, limiter=rate_limiter, settings=settings, email=email, address=client_address
    )
    user = await session.scalar(select(User).where(User.email == email))
    # Verified even for unknown accounts, against a dummy hash, so that timing does not tell.
    valid = await passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        reason = "unknown account" if user is None else "wrong password" if not valid else "inactive account"
        _audit_user(
            session, actor=None, action="login", row=user, outcome="failure", email=email, reason=reason
        )
        raise NotAuthenticated(BAD_CREDENTIALS)
    if user.email_verified_at is None:
        _audit_user(
            session, actor=None, action="login", row=user, outcome="failure", reason="unverified email"
        )
        raise EmailNotVerified(
            "Confirm your email address first: open the link we emailed you when you signed up, "
            "or ask for a new one."
        )
    await rate_limiter.reset(login_throttle_key(email, client_address))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash_password(password)
    pair = await start_session(
        session, user=user, settings=settings, address=client_address, agent=user_agent
    )
    _audit_user(session, actor=user.as_principal(), action="login", row=user)
    return pair


async def rotate_refresh_token(
    *,
    session: AsyncSession,
    settings: Settings,
    refresh_token: str,
    client_address: str | None,
    user_agent: str | None,
) -> TokenPair | NotAuthenticated:
    """Exchanges an unused refresh token for a new pair in the same family.

    A token presented a second time means it was stolen (or the client is broken): every token of
    its family is revoked. That revocation must outlive the refused request, so this refusal is
    *returned*, not raised: the caller's unit of work commits it, then the caller answers 401.
    Raising would roll the revocation back, and revoking in a second transaction would wait
    forever on the row this one has locked. Other refusals change nothing, so they are raised.
    """
    token = await session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token))
        # Serialises concurrent presentations of one token: the second one sees it used.
        .with_for_update()
    )
    if token is None:
        raise NotAuthenticated("The refresh token is invalid.")
    user = await session.get(User, token.user_id)
    assert user is not None  # deleting a user cascades to their tokens
    if token.used_at is not None:
        await _revoke_tokens(session, RefreshToken.family_id == token.family_id, reason="reuse detected")
        # The access tokens of the family too: a thief who refreshed first holds one of them.
        end_family(session, user_id=user.id, family_id=token.family_id)
        _audit_user(
            session, actor=None, action="refresh", row=user, outcome="denied", reason="reuse detected"
        )
        return NotAuthenticated("The refresh token was already used; its sessions have been signed out.")
    now = utc_now()
    refusal = _refresh_refusal(token, user, now)
    if refusal is not None:
        _audit_user(session, actor=None, action="refresh", row=user, outcome="failure", reason=refusal)
        raise NotAuthenticated(refusal)
    token.used_at = now
    pair = await _issue_tokens(
        session,
        user=user,
        settings=settings,
        family_id=token.family_id,
        address=client_address,
        agent=user_agent,
    )
    _audit_user(session, actor=user.as_principal(), action="refresh", row=user)
    return pair


async def logout(
    *,
    session: AsyncSession,
    revocations: TokenRevocations,
    settings: Settings,
    actor: Principal,
    refresh_token: str | None,
) -> None:
    """Revokes the caller's access token and, if given and theirs, the refresh token's family."""
    if refresh_token:
        token = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == tokens.hash_refresh_token(refresh_token))
        )
        # Someone else's token is left alone: logout must not be a way to sign others out.
        if token is not None and token.user_id == actor.user_id:
            await _revoke_tokens(session, RefreshToken.family_id == token.family_id, reason="logout")
    await revoke_access_token(revocations=revocations, settings=settings, actor=actor)
    # Sockets signed in with this token close too, on every instance.
    end_token(session, principal=actor)
    audit.record(
        session,
        actor=actor,
        action="logout",
        resource_type="user",
        resource_id=actor.user_id,
        patient_id=actor.patient_id,
    )


async def revoke_access_token(*, revocations: TokenRevocations, settings: Settings, actor: Principal) -> None:
    """Refuses the caller's access token from now on (it would otherwise live out its lifetime)."""
    if actor.token_id:
        # The token's own expiry is not at hand; its full lifetime from now is a safe upper bound.
        until = utc_now() + timedelta(seconds=settings.access_token_ttl_s + tokens.LEEWAY_S)
        await revocations.revoke(actor.token_id, until=until)


async def start_session(
    session: AsyncSession, *, user: User, settings: Settings, address: str | None, agent: str | None
) -> TokenPair:
    """A token pair of a new refresh-token family: a fresh sign-in of `user` on this client."""
    return await _issue_tokens(
        session, user=user, settings=settings, family_id=uuid.uuid4(), address=address, agent=agent
    )


async def get_user(*, session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> User:
    """One user: any of them for administrators, only themselves for everyone else."""
    if actor.role is not Role.ADMIN and actor.user_id != user_id:
        raise Forbidden("Only administrators may read other users' accounts.")
    user = await _load_user(session, user_id)
    _audit_user(session, actor=actor, action="read", row=user)
    return user


async def list_users(
    *,
    session: AsyncSession,
    actor: Principal,
    role: Role | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[UserRead]:
    """A page of users in creation order, optionally of one role; administrators only."""
    _require_admin(actor)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    query = oldest_first(query, time_column=User.created_at, id_column=User.id, cursor=cursor, limit=limit)
    page, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type="user",
        detail={"role": role.value if role else None, "user_ids": [str(u.id) for u in page]},
    )
    return Page(
        items=[UserRead.model_validate(u) for u in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


async def update_user(
    *, session: AsyncSession, actor: Principal, user_id: uuid.UUID, changes: UserUpdate
) -> User:
    """Changes a user's name, role or active flag. Deactivation ends their sessions; a role change
    ends their access tokens at once (their devices refresh into tokens of the new role)."""
    _require_admin(actor)
    user = await _load_user(session, user_id)
    if user.id == actor.user_id and (changes.role not in (None, Role.ADMIN) or changes.is_active is False):
        raise Conflict("Administrators cannot demote or deactivate themselves; ask another administrator.")
    if changes.role is not None and (changes.role is Role.PATIENT) != (user.role is Role.PATIENT):
        raise InvalidInput(
            "A patient account cannot become a staff account, nor the reverse; create a new one."
        )
    if changes.is_active is False and user.is_active:
        await end_user_sessions(session, user_id=user.id, reason="user deactivated")
    elif changes.role is not None and changes.role is not user.role:
        await end_user_sessions(session, user_id=user.id, reason="role changed", keep_refresh_tokens=True)
    for field, value in changes.model_dump(exclude_none=True).items():
        setattr(user, field, value)
    await session.flush()
    _audit_user(
        session,
        actor=actor,
        action="update",
        row=user,
        changes=changes.model_dump(mode="json", exclude_none=True),
    )
    return user


def _require_admin(actor: Principal) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("This action needs the role: admin.")


async def _load_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


_audit_user = audit.RowAudit("user")


def _refresh_refusal(token: RefreshToken, user: User, now: datetime) -> str | None:
    if token.revoked_at is not None:
        return "The refresh token has been revoked."
    if token.expires_at <= now:
        return "The refresh token has expired."
    if not user.is_active:
        return "The account is disabled."
    return None


async def _create_user(
    session: AsyncSession, *, new: PatientRegistration | StaffCreate, role: Role, min_length: int
) -> User:
    email = normalise_email(new.email)
    passwords.check_password_policy(new.password, min_length=min_length, email=email, full_name=new.full_name)
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email address already exists.")
    user = User(
        email=email,
        full_name=new.full_name,
        role=role,
        patient_id=uuid.uuid4() if role is Role.PATIENT else None,
        password_hash=await passwords.hash_password(new.password),
        # Made by a trusted caller (an administrator, an operator, the demo): the address is taken as is.
        email_verified_at=utc_now(),
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:
        # Two registrations of one address at once: the check above passed for both.
        if "uq_users_email" in str(error.orig) or "users.email" in str(error.orig):
            raise Conflict("An account with this email address already exists.") from None
        raise
    return user


def login_throttle_key(email: str, address: str | None) -> str:
    """The rate-limit key of sign-in attempts on one account from one client address."""
    return f"login:account-address:{email}:{address or 'unknown'}"


def login_account_throttle_key(email: str) -> str:
    """The rate-limit key of sign-in attempts on one account from every address together."""
    return f"login:account:{email}"


async def _throttle_login(
    session: AsyncSession, *, limiter: RateLimiter, settings: Settings, email: str, address: str | None
) -> None:
    # Per account *and* address: a guesser elsewhere spends their own budget, not the owner's.
    # The address goes first, so an address already refused does not spend the account's budgets;
    # the account-wide ceiling comes last, so it only counts attempts the others let through.
    limits = [("address", f"login:address:{address}", settings.login_attempts_per_address)] if address else []
    limits.append(("account", login_throttle_key(email, address), settings.login_attempts_per_account))
    limits.append(
        ("account-total", login_account_throttle_key(email), settings.login_attempts_per_account_total)
    )
    for kind, key, limit in limits:
        decision = await limiter.hit(key, limit=limit, window_s=settings.login_window_s)
        if not decision.allowed:
            _audit_user(
                session, actor=None, action="login", row=None, outcome="denied", email=email, limit=kind
            )
            raise RateLimited(
                "Too many sign-in attempts; wait before trying again.", retry_after_s=decision.retry_after_s
            )


async def _issue_tokens(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    family_id: uuid.UUID,
    address: str | None,
    agent: str | None,
) -> TokenPair:
    access_token, _ = tokens.issue_access_token(user.as_principal(family_id=family_id), settings=settings)
    refresh_token = tokens.new_refresh_token()
    now = utc_now()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=tokens.hash_refresh_token(refresh_token),
            issued_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
            client_address=address[:64] if address else None,
            user_agent=agent[:256] if agent else None,
        )
    )
    await session.flush()
    return TokenPair(
        access_token=access_token,
        expires_in=settings.access_token_ttl_s,
        refresh_token=refresh_token,
        refresh_expires_in=settings.refresh_token_ttl_s,
    )


async def _revoke_tokens(session: AsyncSession, which: ColumnElement[bool], *, reason: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(which, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utc_now(), revoked_reason=reason)
    )
