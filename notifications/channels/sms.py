"""SMS through an HTTP gateway, in the style most of them share: a form POST with basic auth.

`POST {OWNAT_SMS_URL}` with `To`, `From` and `Body`; any 2xx answer means accepted.
"""

from __future__ import annotations

import httpx

from notifications.channels.refusal import ProviderRefused
from notifications.settings import NotificationSettings


async def send_sms(*, client: httpx.AsyncClient, settings: NotificationSettings, to: str, body: str) -> None:
    """Submits one text message to the gateway."""
    if not settings.sms_url:
        raise RuntimeError("SMS is not configured (OWNAT_SMS_URL)")
    auth: httpx.Auth | httpx.USE_CLIENT_DEFAULT = httpx.USE_CLIENT_DEFAULT  # type: ignore[valid-type]
    if settings.sms_username:
        password = settings.sms_password.get_secret_value() if settings.sms_password else ""
        auth = httpx.BasicAuth(settings.sms_username, password)
    response = await client.post(
        settings.sms_url, data={"To": to, "From": settings.sms_sender, "Body": body}, auth=auth
    )
    if not response.is_success:
        raise ProviderRefused(f"SMS gateway answered {response.status_code}: {response.text[:200]}")
