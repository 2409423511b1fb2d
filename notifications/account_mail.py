"""Account emails (verify an address, reset a password, already registered, no account, password
changed, account erased): addressed to the email in the event, for there may be no account behind it; by email only,
never held back by quiet hours, never sent to webhooks.

A link's token goes in the URL's fragment (`#token=...`), which browsers send neither to servers nor
in a Referer. Fan-out removes it from the outbox payload once the email is written, and delivery
blanks the email's body once it is sent (`LINK_REMOVED`), so a link lives in the database only until
it has left.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.outbox import EventType, OutboxEvent
from notifications.context import EventContext, local_time
from notifications.models import Channel
from notifications.recipients import Recipient, zone_named
from notifications.settings import NotificationSettings

E = EventType
# The page each email sends its reader to.
LINK_PATHS: dict[str, str] = {
    E.ACCOUNT_VERIFY_EMAIL: "/account/verify",
    E.ACCOUNT_PASSWORD_RESET: "/account/reset",
    E.ACCOUNT_ALREADY_REGISTERED: "/",
    E.ACCOUNT_NOT_FOUND: "/account/signup",
    E.ACCOUNT_PASSWORD_CHANGED: "/account/forgot",
    E.ACCOUNT_ERASED: "/",
}
ACCOUNT_EVENTS = frozenset(LINK_PATHS)
LINK_EVENTS = frozenset({E.ACCOUNT_VERIFY_EMAIL, E.ACCOUNT_PASSWORD_RESET})
LINK_REMOVED = "(This message carried a single-use link; it was removed once the message was sent.)"


def is_account_event(event_type: str) -> bool:
    return event_type in ACCOUNT_EVENTS


def account_recipient(payload: dict[str, Any], settings: NotificationSettings) -> Recipient | None:
    """The address of the event, reachable by email if email is configured (or the development mailbox)."""
    email = payload.get("email")
    if not email or not settings.email_configured:
        return None
    user_id = payload.get("user_id")
    return Recipient(
        user_id=uuid.UUID(user_id) if user_id else None,
        is_staff=False,
        email=str(email),
        phone=None,
        language=settings.notify_default_language,
        zone=zone_named(None, settings.notify_default_time_zone),
        channels={Channel.EMAIL},
    )


def account_context(event: OutboxEvent, settings: NotificationSettings) -> EventContext:
    """The links of an account email; the token, if any, is taken out of the event here."""
    base = settings.public_url.rstrip("/")
    link = base + LINK_PATHS[event.event_type]
    token = event.payload.get("token")
    if token:
        link += f"#token={token}"
        # A new dict: the JSON column notices replacement, not mutation.
        event.payload = {key: value for key, value in event.payload.items() if key != "token"}
    values = {
        "link": link,
        "sign_in": f"{base}/",
        "forgot": f"{base}/account/forgot",
        "sign_up": f"{base}/account/signup",
    }
    if event.payload.get("kept_until"):
        values["kept_until"] = str(event.payload["kept_until"])
    expires_at = event.payload.get("expires_at")
    if expires_at:
        values["until"] = local_time(datetime.fromisoformat(expires_at), ZoneInfo("UTC"))
    return EventContext(values=values, at=None)
