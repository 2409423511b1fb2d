"""What `ownat dev` changes in the notification settings: its own address in links, and the
development mailbox only in development without an SMTP server."""

from __future__ import annotations

import pytest

from core.settings import Settings
from ownat.embedded import embedded_notification_settings


@pytest.fixture(autouse=True)
def _no_mail_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OWNAT_SMTP_HOST", "OWNAT_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def test_development_without_smtp_gets_the_mailbox_and_its_own_address() -> None:
    notify = embedded_notification_settings(Settings(_env_file=None), host="127.0.0.1", port=8123)
    assert notify.dev_mailbox and notify.email_configured
    assert notify.public_url == "http://localhost:8123"


def test_an_smtp_server_or_another_environment_gets_no_mailbox(monkeypatch: pytest.MonkeyPatch) -> None:
    test_env = Settings(_env_file=None, environment="test")
    assert not embedded_notification_settings(test_env, host="127.0.0.1", port=8123).dev_mailbox
    monkeypatch.setenv("OWNAT_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("OWNAT_PUBLIC_URL", "https://ownat.example.org")
    notify = embedded_notification_settings(Settings(_env_file=None), host="0.0.0.0", port=8123)  # noqa: S104
    assert not notify.dev_mailbox and notify.public_url == "https://ownat.example.org"
