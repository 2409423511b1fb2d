"""Registered SMART apps, their pending authorisations and the grants users (or admins) gave them.

Secrets, authorisation codes and refresh tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column

URL_MAX_LENGTH = 2000


class ClientType(enum.StrEnum):
    PUBLIC = "public"  # a browser or phone app: PKCE only, no secret
    CONFIDENTIAL = "confidential"  # a server-side app: PKCE and a client secret
    BACKEND = "backend"  # a backend service: client credentials with a signed JWT assertion


class AuthorizationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the user's answer on the consent page
    APPROVED = "approved"  # a code was issued
    DENIED = "denied"
    USED = "used"  # the code was exchanged (once)


class SmartApp(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "smart_apps"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    client_type: Mapped[ClientType] = mapped_column(
        value_set_column(ClientType, "smart_client_type", length=16)
    )
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The scopes the app may ever be granted, space-separated.
    scopes: Mapped[str] = mapped_column(Text)
    # Where the chart opens the app for an EHR launch (with `iss` and `launch`).
    launch_url: Mapped[str | None] = mapped_column(String(URL_MAX_LENGTH))
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # A backend service's public keys: registered as a JWK Set, or fetched from its URL.
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_url: Mapped[str | None] = mapped_column(String(URL_MAX_LENGTH))
    is_active: Mapped[bool] = mapped_column(default=True)


class SmartAuthorization(PublicIdMixin, Base):
    """One authorisation request, from `/oauth/authorize` to the code's exchange."""

    __tablename__ = "smart_authorizations"

    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("smart_apps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[AuthorizationStatus] = mapped_column(
        value_set_column(AuthorizationStatus, "smart_authz_status", length=16)
    )
    redirect_uri: Mapped[str] = mapped_column(String(URL_MAX_LENGTH))
    requested_scope: Mapped[str] = mapped_column(Text)
    granted_scope: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str | None] = mapped_column(Text)
    # An EHR launch's context, from the `launch` parameter: who launched and with which patient.
    launch_user_id: Mapped[uuid.UUID | None]
    launch_patient_id: Mapped[uuid.UUID | None]
    # The patient in context once the user approved (launched with, or chosen in the picker).
    patient_id: Mapped[uuid.UUID | None]
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SmartGrantRecord(PublicIdMixin, Base):
    """What a user (or, for a backend service, its registration) granted an app; refresh tokens
    belong to a grant, and revoking the grant ends every token issued under it."""

    __tablename__ = "smart_grants"

    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("smart_apps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[uuid.UUID | None]
    refresh_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The token the current one replaced: presented again, it was copied, and the grant is ended.
    previous_refresh_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
