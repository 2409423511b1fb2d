"""Process configuration from `OWNAT_` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only good enough for a laptop: production refuses to start while this is in use.
DEVELOPMENT_SECRET = "ownat-development-secret-change-me-0123456789"  # noqa: S105


class Settings(BaseSettings):
    """Everything a deployment can change. Defaults give the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="OWNAT_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".ownat")

    # Unset URLs select the embedded component: SQLite, the in-process bus, the embedded broker.
    database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "ownat:"
    mqtt_url: str | None = None
    embedded_mqtt_host: str = "127.0.0.1"
    # 1883 is usually taken by a real Mosquitto; the embedded broker keeps out of its way.
    embedded_mqtt_port: int = 18830
    # `ownat dev`'s deteriorating demo patient: stable for `demo_onset_s`, then its course runs
    # `demo_time_scale` times faster than real time (360: six clinical hours a minute).
    demo_onset_s: float = Field(default=5.0, ge=0)
    demo_time_scale: float = Field(default=360.0, gt=0)

    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_issuer: str = "ownat"
    jwt_audience: str = "ownat-api"
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=3600)

    # Login throttling: attempts allowed per window, per account and per client address.
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 30
    login_window_s: int = 900

    password_min_length: int = 12
    max_request_body_bytes: int = 1_048_576
    # Uploaded documents (PDF, images) may be larger than any other request body.
    document_max_bytes: int = Field(default=20 * 1_048_576, ge=1_048_576)
    trusted_proxy_hops: int = 0

    # Billing: one currency per organisation (ISO 4217), the default tax rate in basis points
    # (1900 = 19 %) for fee-schedule prices without their own, and the payment terms of invoices.
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    billing_tax_rate_bp: int = Field(default=0, ge=0, le=10_000)
    billing_payment_terms_days: int = Field(default=30, ge=0, le=365)
    billing_issuer_name: str = "Ownat"
    # The card payment gateway (a Stripe-style HTTP API); unset disables card payments.
    payment_gateway_url: str | None = None
    payment_gateway_secret_key: SecretStr | None = None
    payment_webhook_secret: SecretStr | None = None
    payment_webhook_tolerance_s: int = Field(default=300, ge=1)
    payment_gateway_timeout_s: float = Field(default=20.0, gt=0)
    # A card payment still pending this long is settled by `ownat worker` (asked of the gateway,
    # then cancelled unless it succeeded). 30 minutes is well past a browser checkout with 3-D Secure
    # (minutes), yet short enough that an abandoned payment does not hold an invoice's balance for
    # the rest of the day. Far above the gateway timeout, so no request is still creating the intent.
    payment_pending_expiry_s: int = Field(default=1800, ge=300)
    # Where the gateway's payment page sends the patient back (the portal's bills page, as patients
    # reach it, e.g. https://care.example.org/portal/billing); unset: the address the request came to.
    payment_return_url: str | None = None
    # Technical alarms and escalation (realtime.alarms): a bound monitor silent this long, a battery
    # at or under this level, a high alarm unacknowledged this long.
    alarm_silent_after_s: int = Field(default=60, ge=5)
    alarm_low_battery_pct: int = Field(default=20, ge=0, le=100)
    alarm_escalate_after_s: int = Field(default=120, ge=10)
    # How often the embedded mode (`ownat dev`) and `ownat worker` run those periodic checks.
    alarm_check_interval_s: float = Field(default=5.0, gt=0)
    # Video consultations: the room of a video appointment opens this long before its start and
    # closes this long after its scheduled end (or when the clinician ends it).
    consult_opens_before_s: int = Field(default=900, ge=0, le=24 * 3600)
    consult_closes_after_s: int = Field(default=3600, ge=0, le=24 * 3600)
    consult_invitation_ttl_s: int = Field(default=24 * 3600, ge=300, le=14 * 24 * 3600)
    # ICE: STUN/TURN URLs for browsers; TURN credentials are minted from the secret shared with coturn.
    stun_urls: list[str] = []
    turn_urls: list[str] = []
    turn_secret: SecretStr | None = None
    turn_credential_ttl_s: int = Field(default=3600, ge=60, le=24 * 3600)

    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment != "production":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET or len(secret) < 32:
            raise ValueError("OWNAT_SECRET_KEY must be set to a random value of 32+ characters in production")
        if not (self.database_url or "").startswith("postgresql"):
            raise ValueError("OWNAT_DATABASE_URL must point at PostgreSQL in production")
        if not self.redis_url:
            raise ValueError("OWNAT_REDIS_URL is required in production (several instances share state)")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ownat.sqlite3').resolve()}"

    @property
    def is_embedded_database(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Reads the environment now; callers own the instance (nothing is configured at import time)."""
    return Settings(**overrides)  # type: ignore[arg-type]
