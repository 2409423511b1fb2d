"""Email over SMTP (aiosmtplib: no blocking socket on the event loop)."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from notifications.settings import NotificationSettings

log = logging.getLogger(__name__)


async def send_email(*, settings: NotificationSettings, to: str, subject: str, body: str) -> None:
    """Hands one plain-text message to the configured SMTP server."""
    if not settings.smtp_host:
        if settings.dev_mailbox:
            # `ownat dev` without SMTP: the newcomer reads it here or on /dev/mail/ (never in production).
            log.info("development mailbox: email to %s, subject %r:\n%s", to, subject, body)
            return
        raise RuntimeError("email is not configured (OWNAT_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        # The breaker bounds the whole call; this bounds each socket operation inside it.
        timeout=settings.provider_timeout_s,
    )
