"""A newcomer in Chromium: signs up (the password rules explained while typing), confirms the address
from the email (read from an SMTP server on loopback), signs in, forgets the password and resets it."""

from __future__ import annotations

import re
from email.message import Message

from playwright.async_api import Page, expect

from core.resources import Resources
from notifications.settings import NotificationSettings
from tests.builders import strong_password, unique_email
from tests.notifications.builders import notification_settings, worker
from tests.notifications.servers import smtp_server
from tests.web.conftest import LiveServer
from tests.web.signing_in import LOOPBACK, ready

LINK = re.compile(r"http://\S+#token=\S+")


async def deliver_mail(resources: Resources, settings: NotificationSettings) -> None:
    """One pass of the notification worker: the outbox to the SMTP server."""
    the_worker = worker(resources, settings)
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()


def mail_to(inbox_messages: list[tuple[list[str], Message]], email: str, subject: str) -> str:
    """The text of the newest email to `email` with `subject`."""
    mails = [mail for rcpt, mail in inbox_messages if rcpt == [email] and mail["Subject"] == subject]
    assert mails, f"no email {subject!r} to {email}"
    return str(mails[-1].get_content())


async def test_a_newcomer_signs_up_confirms_signs_in_and_resets_a_forgotten_password(
    page: Page, live_server: LiveServer, resources: Resources
) -> None:
    email, password = unique_email("newcomer"), strong_password()
    await resources.rate_limiter.reset(f"login:address:{LOOPBACK}")
    async with smtp_server() as (smtp_port, mailbox):
        mail = notification_settings(smtp_host="127.0.0.1", smtp_port=smtp_port, public_url=live_server.url)

        # Sign-up, from the sign-in page; the rules turn to ticks as the password meets them.
        await page.goto(live_server.url + "/")
        await ready(page)
        await page.get_by_role("link", name="New patient? Create an account").click()
        await ready(page)
        await page.get_by_label("Full name").fill("Robin Okafor")
        await page.get_by_label("Email").fill(email)
        rules = page.get_by_role("list", name="Password rules")
        await page.get_by_label("Password", exact=True).fill("okafor")
        await expect(rules.locator(".rule-unmet")).to_contain_text(["At least 12 characters", "your name"])
        await page.get_by_label("Password", exact=True).fill(password)
        await page.get_by_label("Password again").fill(password)
        await expect(rules.locator(".rule-unmet")).to_have_count(0)
        await page.get_by_role("button", name="Create account").click()
        await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

        # Signing in before confirming is refused, saying why.
        await page.goto(live_server.url + "/")
        await ready(page)
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("Confirm your email address first")

        # The confirmation email's link opens the account.
        await deliver_mail(resources, mail)
        text = mail_to(mailbox.messages, email, "Confirm your email address")
        link = LINK.search(text)
        assert link and link.group(0).startswith(live_server.url + "/account/verify#token=")
        await page.goto(link.group(0))
        await expect(page.get_by_role("heading", name="Your email is confirmed")).to_be_visible()
        await page.get_by_role("link", name="Sign in").click()
        await ready(page)
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Hello, Robin Okafor")).to_be_visible()
        await page.get_by_role("button", name="Sign out").click()

        # A forgotten password: the same answer as for any address, then the emailed link.
        await expect(page).to_have_url(live_server.url + "/")
        await ready(page)
        await page.get_by_role("link", name="Forgot your password?").click()
        await ready(page)
        await page.get_by_label("Email").fill(email)
        await page.get_by_role("button", name="Email me a link").click()
        await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        await deliver_mail(resources, mail)
        reset = LINK.search(mail_to(mailbox.messages, email, "Reset your Ownat password"))
        assert reset
        await page.goto(reset.group(0))
        await ready(page)
        new_password = strong_password()
        await page.get_by_label("New password", exact=True).fill(new_password)
        await page.get_by_label("New password again").fill(new_password)
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

        # The old password no longer works; the new one does. The link worked once.
        await page.get_by_role("link", name="Sign in").click()
        await ready(page)
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("incorrect")
        await page.get_by_label("Password").fill(new_password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Hello, Robin Okafor")).to_be_visible()
        await page.goto(reset.group(0))
        await ready(page)
        await page.get_by_label("New password", exact=True).fill(strong_password() + "x")
        await page.get_by_label("New password again").fill(
            await page.get_by_label("New password", exact=True).input_value()
        )
        await page.get_by_role("button", name="Set the new password").click()
        await expect(page.get_by_role("alert")).to_contain_text("does not work")
