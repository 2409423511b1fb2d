"""Process configuration from `OWNAT_` environment variables and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Only good enough for a laptop: production refuses to start while this is in use.
DEVELOPMENT_SECRET = "ownat-development-secret-change-me-0123456789"  # noqa: S105
# The audit log's key on a laptop and in tests; production refuses it too.
DEVELOPMENT_AUDIT_KEY = "ownat-development-audit-key-change-me-0123456789"
AUDIT_KEY_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"


class Settings(BaseSettings):
    """Everything a deployment can change. Defaults give the embedded mode."""

    model_config = SettingsConfigDict(env_prefix="OWNAT_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path(".ownat")

    # Unset URLs select the embedded component: SQLite, the in-process bus, the embedded broker.
    database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "ownat:"
    # The pool that checks sessions and rate limits on each request: connections per process, and how
    # long a request waits for a connection or an answer before it is told 503 (try again).
    redis_max_connections: int = Field(default=50, ge=2, le=10_000)
    redis_timeout_s: float = Field(default=2.0, gt=0, le=30)
    mqtt_url: str | None = None
    embedded_mqtt_host: str = "127.0.0.1"
    # 1883 is usually taken by a real Mosquitto; the embedded broker keeps out of its way.
    embedded_mqtt_port: int = 18830
    # `ownat dev`'s deteriorating demo patient: stable for `demo_onset_s`, then its course runs
    # `demo_time_scale` times faster than real time (720: twelve clinical hours a minute, so that
    # its first alarm shows 30-45 s after onset; devices.simulator.DEMO_TIME_SCALE).
    demo_onset_s: float = Field(default=5.0, ge=0)
    demo_time_scale: float = Field(default=720.0, gt=0)

    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_issuer: str = "ownat"
    jwt_audience: str = "ownat-api"
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=3600)

    # SMART on FHIR: the RSA private key (PEM) that signs OpenID id_tokens; unset, one is generated
    # into the data dir (set it when several api instances run, so they all sign with one key).
    smart_signing_key: SecretStr | None = None
    # OAuth endpoints (authorize, token, revoke, introspect): requests per client and address per window.
    smart_requests_per_client: int = Field(default=60, ge=1)
    smart_window_s: int = Field(default=60, ge=1)
    # FHIR requests one SMART app may make per window (all its users together): a runaway app is
    # slowed down before it slows everyone else.
    smart_fhir_requests_per_app: int = Field(default=1200, ge=1)

    # Login throttling, attempts allowed per window: for one account from one client address (so
    # that someone guessing from elsewhere cannot lock the owner out), from one client address
    # across accounts, and for one account from all addresses together (distributed guessing; a
    # password reset through the emailed link lifts it for the owner).
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 30
    login_attempts_per_account_total: int = Field(default=100, ge=1)
    login_window_s: int = 900

    password_min_length: int = 12
    # Accounts (sign-up, email verification, password reset): how long an emailed link works, and
    # how many account emails one address, and one client address, may ask for per window.
    account_verify_link_ttl_s: int = Field(default=24 * 3600, ge=600, le=7 * 24 * 3600)
    account_reset_link_ttl_s: int = Field(default=1800, ge=300, le=24 * 3600)
    account_emails_per_address: int = Field(default=3, ge=1)
    account_emails_per_client: int = Field(default=20, ge=1)
    account_window_s: int = Field(default=3600, ge=60)
    # Legal retention, counted from the last care or the last payment: what an erasure request keeps
    # (restricted) instead of erasing. Ten years is common; set your jurisdiction's (France: 20).
    medical_record_retention_years: int = Field(default=10, ge=1, le=100)
    billing_record_retention_years: int = Field(default=10, ge=1, le=100)
    max_request_body_bytes: int = 1_048_576
    # Uploaded documents (PDF, images) may be larger than any other request body.
    document_max_bytes: int = Field(default=20 * 1_048_576, ge=1_048_576)
    trusted_proxy_hops: int = 0
    # WebSocket compression (permessage-deflate) for the dashboards, patients' pages and FHIR
    # subscription sockets. Off: each connection keeps its own deflate state, so one ward frame is
    # compressed again for every nurse watching that ward (28 % of the api's CPU at 1,000 dashboards,
    # bench/fanout), while the frames are a few kilobytes a second per screen, nothing on a LAN. Turn
    # it on for dashboards behind slow links.
    websocket_compression: bool = False

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
    # The alarm policy (realtime.alarms.policy; the reasoning is in the README's clinical section).
    # A NEWS2 band raises once held this long (by the priority it raises at); an alarm ends once
    # its condition has been gone this long; ended alarms of these priorities stay, marked
    # "condition ended", until acknowledged; a continuous value counts as current this long.
    alarm_news2_delay_high_s: float = Field(default=30.0, ge=0, le=3600)
    alarm_news2_delay_medium_s: float = Field(default=60.0, ge=0, le=3600)
    alarm_hysteresis_s: float = Field(default=30.0, ge=0, le=3600)
    # A pending condition survives values back in range this long (noise at the limit).
    alarm_condition_gap_s: float = Field(default=5.0, ge=0, le=60)
    # A NEWS2 band's dip shorter than this pauses its hold; a longer one ends the pending condition.
    alarm_news2_gap_s: float = Field(default=120.0, ge=0, le=600)
    alarm_news2_hysteresis_s: float = Field(default=120.0, ge=0, le=3600)
    alarm_latching_priorities: Annotated[list[Literal["low", "medium", "high"]], NoDecode] = ["high"]
    alarm_value_hold_s: float = Field(default=15.0, ge=1, le=600)
    # How often the live evaluator looks again at pending conditions and ending alarms, so that a
    # condition that persists raises (and one that is gone ends) with no new reading.
    alarm_tick_s: float = Field(default=2.0, gt=0, le=60)
    # Each live evaluator says it is alive this often while its rounds commit; an api instance that
    # hears none for `alarm_watchdog_s` tells every staff page that alarms are not being evaluated
    # (realtime.hub.alarm_watch). Long enough to ride out a slow round, short beside the alarm delays.
    alarm_heartbeat_s: float = Field(default=5.0, gt=0, le=60)
    alarm_watchdog_s: float = Field(default=20.0, gt=0, le=3600)
    # NEWS2 completeness: a device value counts for this long; a charting of consciousness and
    # oxygen for this long (the sparsest RCP schedule is 12-hourly).
    news2_vitals_validity_s: int = Field(default=900, ge=60, le=24 * 3600)
    news2_observation_validity_s: int = Field(default=12 * 3600, ge=600, le=72 * 3600)
    # IHE PCD (devices.pcd, realtime.alarms.pcd04). PCD-01 device observations posted to
    # /api/v1/hl7/oru need an ingest worker in the API process: on when `pcd_http` is set (over MLLP,
    # `ownat mllp` runs its own). `ownat dev` listens for HL7 over MLLP on `embedded_mllp_port`.
    pcd_http: bool = False
    embedded_mllp_port: int = Field(default=25750, ge=1, le=65535)
    # PCD-04 (alarm communication): Ownat's alarms sent as ORU^R40 over MLLP to an alarm manager or
    # nurse-call system at this host and port; unset host: not sent. Retried by `ownat worker`.
    pcd04_host: str | None = None
    pcd04_port: int = Field(default=2575, ge=1, le=65535)
    pcd04_timeout_s: float = Field(default=10.0, gt=0)
    pcd04_receiving_application: str = "ACM"
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

    # The audit log's HMAC key (core.audit): held by the processes, never by the database, and
    # distinct from OWNAT_SECRET_KEY. Entries, seals and checkpoints name the key id that made them;
    # after a rotation the old keys stay in OWNAT_AUDIT_RETIRED_KEYS ("id:secret,id:secret") so that
    # what they signed still verifies. `ownat worker` (and `ownat dev`) seal committed entries into
    # the chain every `audit_seal_interval_s`.
    audit_key: SecretStr = SecretStr(DEVELOPMENT_AUDIT_KEY)
    audit_key_id: str = Field(default="k1", pattern=AUDIT_KEY_ID_PATTERN)
    audit_retired_keys: Annotated[dict[str, SecretStr], NoDecode] = {}
    audit_seal_interval_s: float = Field(default=1.0, gt=0, le=60)

    # FHIR Subscriptions (realtime.subscriptions). Rest-hook endpoints must resolve to public
    # addresses unless private ones are allowed (the demo and tests post to loopback); binding
    # tokens of the websocket channel live `fhir_ws_token_ttl_s`; events stay for `$events` as long
    # as `fhir_subscription_event_retention_s`.
    fhir_hooks_allow_private: bool = False
    fhir_ws_token_ttl_s: int = Field(default=300, ge=10, le=3600)
    fhir_subscription_event_retention_s: int = Field(default=24 * 3600, ge=60)
    fhir_hook_max_attempts: int = Field(default=8, ge=1, le=50)
    fhir_hook_retry_base_s: float = Field(default=2.0, gt=0)
    # Bulk Data export (clinical.fhir.bulk): files under data_dir/exports, kept `fhir_export_ttl_s`;
    # rows are read and written `fhir_export_batch` at a time.
    fhir_export_ttl_s: int = Field(default=24 * 3600, ge=60)
    fhir_export_batch: int = Field(default=500, ge=1, le=10000)

    log_level: str = "INFO"
    log_json: bool = True

    # Traces (core.tracing, docs/observability.md): exported over OTLP/HTTP to this collector
    # (`http://collector:4318`; `/v1/traces` is added unless given); unset, tracing is off. A trace
    # is kept with this probability unless its parent (a device's traceparent, an HTTP caller's)
    # decided; each process reports as `<service name>-<process>` (ownat-ingest, ownat-api, ...).
    otlp_endpoint: str | None = None
    otlp_timeout_s: float = Field(default=10.0, gt=0, le=60)
    trace_sample_ratio: float = Field(default=0.1, ge=0, le=1)
    trace_service_name: str = Field(default="ownat", min_length=1, max_length=64)

    @field_validator("alarm_latching_priorities", mode="before")
    @classmethod
    def _parse_latching(cls, value: object) -> object:
        # "high,medium" in the environment; an empty string latches no priority.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("audit_retired_keys", mode="before")
    @classmethod
    def _parse_retired_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in value.split(","))):
            key_id, separator, secret = pair.partition(":")
            if not separator or not re.fullmatch(AUDIT_KEY_ID_PATTERN, key_id) or not secret:
                raise ValueError("OWNAT_AUDIT_RETIRED_KEYS takes 'id:secret' pairs separated by commas")
            keys[key_id] = secret
        return keys

    @model_validator(mode="after")
    def _refuse_a_watchdog_that_cries_wolf(self) -> Settings:
        # A beat follows a round, and a round may wait a tick: two beats may be missed before silence means anything.
        if self.alarm_watchdog_s < 2 * self.alarm_heartbeat_s + self.alarm_tick_s:
            raise ValueError(
                "OWNAT_ALARM_WATCHDOG_S must be at least twice OWNAT_ALARM_HEARTBEAT_S plus OWNAT_ALARM_TICK_S"
            )
        return self

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
        audit_key = self.audit_key.get_secret_value()
        if audit_key == DEVELOPMENT_AUDIT_KEY or len(audit_key) < 32:
            raise ValueError("OWNAT_AUDIT_KEY must be set to a random value of 32+ characters in production")
        if audit_key == secret:
            raise ValueError("OWNAT_AUDIT_KEY must differ from OWNAT_SECRET_KEY")
        return self

    @model_validator(mode="after")
    def _refuse_ambiguous_audit_keys(self) -> Settings:
        if self.audit_key_id in self.audit_retired_keys:
            raise ValueError(
                f"OWNAT_AUDIT_KEY_ID {self.audit_key_id!r} is also in OWNAT_AUDIT_RETIRED_KEYS: "
                "give the new key an id of its own"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'ownat.sqlite3').resolve()}"

    @property
    def effective_mqtt_url(self) -> str:
        """The configured MQTT broker, or the embedded broker's address."""
        return self.mqtt_url or f"mqtt://{self.embedded_mqtt_host}:{self.embedded_mqtt_port}"

    @property
    def is_embedded_database(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Reads the environment now; callers own the instance (nothing is configured at import time)."""
    return Settings(**overrides)  # type: ignore[arg-type]
