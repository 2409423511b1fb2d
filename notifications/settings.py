"""Notification settings, from `OWNAT_` environment variables like the rest.

Unset SMTP or SMS settings switch that channel off: nothing is queued for it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNAT_", env_file=".env", extra="ignore")

    # Links in messages point here: people sign in to read, messages carry no results.
    public_url: str = "http://localhost:8000"
    notify_default_language: str = "en"
    notify_default_time_zone: str = "UTC"

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_sender: str = "Ownat <no-reply@localhost>"
    # `ownat dev` only, when no SMTP server is set: emails are "sent" to its log and its development
    # mailbox page (/dev/mail/) instead, so that sign-up and password reset work on a laptop.
    dev_mailbox: bool = False

    # Webhooks reach public addresses only; these hosts (names or addresses, comma-separated in the
    # environment) may be internal, e.g. "his.hospital.internal,10.0.4.12".
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = []

    # An HTTP SMS gateway: a form POST of To, From and Body with basic authentication.
    sms_url: str | None = None
    sms_username: str | None = None
    sms_password: SecretStr | None = None
    sms_sender: str = "Ownat"

    # Retries: base * 2^(attempt-1) seconds, capped; after the last attempt the delivery is dead.
    notify_max_attempts: int = Field(default=6, ge=1, le=20)
    notify_retry_base_s: float = Field(default=30.0, gt=0)
    notify_retry_max_s: float = Field(default=3600.0, gt=0)
    # Providers get this long per call; after `breaker_failures` failures in a row the breaker opens.
    # Events, deliveries and inbox entries are kept this long once nothing is left to send.
    notify_retention_days: int = Field(default=365, ge=1)
    provider_timeout_s: float = Field(default=10.0, gt=0)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)
    # A claimed delivery stays with its worker this long; a live worker renews it every third of it
    # while it sends, so only a dead worker's claims run out (and are sent again by another).
    notify_lease_s: float = Field(default=30.0, ge=1)

    @field_validator(
        "smtp_host",
        "smtp_username",
        "sms_url",
        "sms_username",
        "smtp_password",
        "sms_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes an unset variable as an empty string.
        return None if value == "" else value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @property
    def email_configured(self) -> bool:
        """Whether email can go anywhere: an SMTP server, or the development mailbox."""
        return bool(self.smtp_host) or self.dev_mailbox

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery stays with its worker unless renewed."""
        return self.notify_lease_s


def load_notification_settings(**overrides: object) -> NotificationSettings:
    """Reads the environment now; callers own the instance."""
    return NotificationSettings(**overrides)  # type: ignore[arg-type]
