"""Users, their refresh tokens and their emailed account links. Tokens are stored as hashes only."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column
from core.principal import Principal, Role

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets
NAME_MAX_LENGTH = 200


class User(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    # Keyset pagination walks users in (created_at, id) order.
    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)

    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    full_name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    role: Mapped[Role] = mapped_column(value_set_column(Role, "role", length=16))
    # For a patient, the id of their own patient record (the clinical module creates that row).
    patient_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Null until the owner of the address opened the link we sent it (online sign-up); accounts
    # made by an administrator or an operator are taken as verified when created.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised to end every session at once (core.identity.session_end): access tokens carry the
    # generation they were issued under and are refused once it is no longer the current one.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def as_principal(self, *, token_id: str | None = None, family_id: uuid.UUID | None = None) -> Principal:
        """The principal this user acts as (in a token of `family_id`, when one is being issued)."""
        return Principal(
            user_id=self.id,
            role=self.role,
            patient_id=self.patient_id,
            token_id=token_id,
            generation=self.session_generation or 0,
            family_id=family_id,
        )


class RefreshToken(PublicIdMixin, Base):
    """One refresh token of a family; each rotation adds a row and marks the previous one used."""

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Every token descending from one login shares the family; reuse of any revokes them all.
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))


class AccountTokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a secret)


class AccountToken(PublicIdMixin, Base):
    """A single-use link sent by email; only its SHA-256 is kept, and a newer one supersedes it."""

    __tablename__ = "account_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[AccountTokenPurpose] = mapped_column(
        value_set_column(AccountTokenPurpose, "account_token_purpose", length=16)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the link is used, or when a newer link of the same purpose replaces it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
