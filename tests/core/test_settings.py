"""Settings: embedded defaults, switching to real services by URL, and production's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import DEVELOPMENT_AUDIT_KEY, DEVELOPMENT_SECRET, Settings

STRONG_SECRET = "s" * 20 + "0123456789abcdef"
AUDIT_KEY = "a" * 20 + "fedcba9876543210"
POSTGRES = "postgresql+psycopg://ownat@db/ownat"
PRODUCTION = {"environment": "production", "database_url": POSTGRES, "redis_url": "redis://r"}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OWNAT_DATA_DIR", str(tmp_path))
    settings = _settings()
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/ownat.sqlite3"
    assert settings.is_embedded_database
    assert settings.redis_url is None and settings.mqtt_url is None
    assert settings.embedded_mqtt_port != 1883


def test_environment_variables_switch_to_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNAT_DATABASE_URL", POSTGRES)
    monkeypatch.setenv("OWNAT_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("OWNAT_MQTT_URL", "mqtt://broker:1883")
    settings = _settings()
    assert settings.effective_database_url == POSTGRES and not settings.is_embedded_database
    assert settings.redis_url == "redis://cache:6379/0" and settings.mqtt_url == "mqtt://broker:1883"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OWNAT_EMBEDDED_MQTT_PORT=19999\n")
    assert Settings(_env_file=env_file).embedded_mqtt_port == 19999  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"database_url": POSTGRES, "redis_url": "redis://r"}, "OWNAT_SECRET_KEY"),
        (
            {"secret_key": DEVELOPMENT_SECRET, "database_url": POSTGRES, "redis_url": "redis://r"},
            "OWNAT_SECRET_KEY",
        ),
        ({"secret_key": "short", "database_url": POSTGRES, "redis_url": "redis://r"}, "OWNAT_SECRET_KEY"),
        ({"secret_key": STRONG_SECRET, "redis_url": "redis://r"}, "OWNAT_DATABASE_URL"),
        ({"secret_key": STRONG_SECRET, "database_url": POSTGRES}, "OWNAT_REDIS_URL"),
    ],
)
def test_production_refuses_unsafe_configuration(values: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        _settings(environment="production", **values)


def test_production_starts_with_real_secrets_and_services() -> None:
    settings = _settings(**PRODUCTION, secret_key=STRONG_SECRET, audit_key=AUDIT_KEY)
    assert settings.secret_key.get_secret_value() == STRONG_SECRET


@pytest.mark.parametrize(
    "audit_key",
    [None, DEVELOPMENT_AUDIT_KEY, "short", STRONG_SECRET],
    ids=["unset", "development", "short", "token-secret"],
)
def test_production_refuses_an_unsafe_audit_key(audit_key: str | None) -> None:
    values = {"audit_key": audit_key} if audit_key else {}
    with pytest.raises(ValidationError, match="OWNAT_AUDIT_KEY"):
        _settings(**PRODUCTION, secret_key=STRONG_SECRET, **values)


def test_retired_audit_keys_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNAT_AUDIT_KEY_ID", "2027-01")
    monkeypatch.setenv("OWNAT_AUDIT_RETIRED_KEYS", "2026-01:first-secret, 2026-06:second-secret")
    settings = _settings()
    assert {k: v.get_secret_value() for k, v in settings.audit_retired_keys.items()} == {
        "2026-01": "first-secret",
        "2026-06": "second-secret",
    }
    monkeypatch.setenv("OWNAT_AUDIT_RETIRED_KEYS", "no-separator")
    with pytest.raises(ValidationError, match="'id:secret' pairs"):
        _settings()
    # The active key's id may not name a retired key too: which secret would verify it?
    monkeypatch.setenv("OWNAT_AUDIT_RETIRED_KEYS", "2027-01:old-secret")
    with pytest.raises(ValidationError, match="give the new key an id of its own"):
        _settings()
