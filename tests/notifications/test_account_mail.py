"""Account emails through the outbox: to the address only, with their link, which leaves the database
once sent; and the development mailbox of `ownat dev`."""

from __future__ import annotations

from sqlalchemy import select

from core.outbox import EventType, OutboxEvent
from notifications.account_mail import LINK_REMOVED
from notifications.dev_mailbox import recent_emails
from notifications.models import Channel, DeliveryStatus
from tests.builders import strong_password, unique_email
from tests.notifications.builders import (
    deactivate,
    notification_settings,
    notifications_of,
    subscription,
    worker,
)
from tests.notifications.servers import HttpRecorder, smtp_server


async def _sign_up(client, email: str) -> OutboxEvent:
    body = {"email": email, "password": strong_password(), "full_name": "Sam Mailer"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 202
    return await _event_to(client, email)


async def _event_to(client, email: str) -> OutboxEvent:
    app = client._transport.app  # the same app the fixtures share
    async with app.state.resources.sessions() as session:
        event = await session.scalar(
            select(OutboxEvent).where(OutboxEvent.payload["email"].as_string() == email.lower())
        )
    assert event is not None
    return event


async def test_a_verification_email_carries_its_link_which_then_leaves_the_database(
    client, sessions, resources
) -> None:
    email = unique_email("mail")
    event = await _sign_up(client, email)
    token = event.payload["token"]
    async with smtp_server() as (smtp_port, mailbox), HttpRecorder().serving() as hook:
        # A subscription to every event type: account emails are still not for outside systems.
        hook_id = await subscription(sessions, hook.url, [])
        the_worker = worker(resources, notification_settings(smtp_host="127.0.0.1", smtp_port=smtp_port))
        try:
            await the_worker.run_once()
        finally:
            await the_worker.close()
            await deactivate(sessions, hook_id)
    (_, mail) = next(m for m in mailbox.messages if m[0] == [email.lower()])
    assert mail["Subject"] == "Confirm your email address"
    assert f"https://ownat.example/account/verify#token={token}" in mail.get_content()
    assert not [r for r in hook.requests if str(event.id).encode() in r.body]
    (delivery,) = await notifications_of(sessions, event_id=event.id)
    assert (delivery.channel, delivery.status) == (Channel.EMAIL, DeliveryStatus.SENT)
    assert delivery.body == LINK_REMOVED
    async with sessions() as session:
        dispatched = await session.get(OutboxEvent, event.id)
    assert dispatched is not None and "token" not in dispatched.payload


async def test_the_development_mailbox_keeps_what_it_would_have_sent(client, sessions, resources) -> None:
    email = unique_email("devmail")
    event = await _sign_up(client, email)
    the_worker = worker(resources, notification_settings(dev_mailbox=True))
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()
    (delivery,) = await notifications_of(sessions, event_id=event.id)
    assert delivery.status is DeliveryStatus.SENT
    async with sessions() as session:
        shown = [mail for mail in await recent_emails(session=session) if mail.address == email.lower()]
    assert len(shown) == 1 and "/account/verify#token=" in shown[0].body


async def test_without_email_configured_an_account_event_sends_nothing_and_keeps_no_link(
    client, sessions, resources
) -> None:
    email = unique_email("nomail")
    event = await _sign_up(client, email)
    the_worker = worker(resources, notification_settings())
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()
    assert await notifications_of(sessions, event_id=event.id) == []
    assert EventType(event.event_type) is EventType.ACCOUNT_VERIFY_EMAIL
    assert "token" not in (await _event_to(client, email)).payload
