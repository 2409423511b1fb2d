"""The patient's billing page in headless Chromium: a patient downloads and pays an invoice by card.

The billing office's journey is in test_billing_office.py. The app under test has card payments on
the loopback test gateway, and is served over HTTP on a port of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from billing.payments.test_gateway import GatewayServer
from clinical.patients import service as patients
from core.identity.models import User
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from tests.billing.insurance_builders import patient_with_address
from tests.builders import create_user
from tests.web.conftest import LiveServer


@pytest.fixture(scope="module")
async def billing_server(settings: Settings) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    """The app with card payments on the loopback test gateway, served on a free loopback port;
    the gateway posts its webhooks to it, as a real one would."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    async with GatewayServer(webhook_url=url + "/api/v1/billing/gateway/webhook") as gateway:
        app = create_app(gateway.configure(settings))
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
        async with app.router.lifespan_context(app):
            task = asyncio.create_task(server.serve(sockets=[listener]))
            try:
                yield LiveServer(url=url), app
            finally:
                server.should_exit = True
                await task
                listener.close()


async def sign_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    await page.goto(server.url + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def patient_account(sessions: async_sessionmaker[AsyncSession]) -> tuple[User, str]:
    """A patient who signs in with a password and owns a patient record, as after registering online."""
    user, password = await create_user(sessions, role=Role.PATIENT)
    assert user.patient_id is not None
    async with transaction(sessions) as session:
        await patients.register_online_patient(
            session=session, actor=SYSTEM, user_id=user.id, patient_id=user.patient_id,
            full_name=user.full_name, email=user.email,
        )  # fmt: skip
    return user, password


async def issued_invoice(
    sessions: async_sessionmaker[AsyncSession], patient_id: uuid.UUID, *, total: int, status: InvoiceStatus
) -> Invoice:
    """An invoice of one consultation line, issued (or left a draft), in US dollars."""
    clerk, _ = await create_user(sessions, role=Role.BILLING)
    issued = status is not InvoiceStatus.DRAFT
    invoice = Invoice(
        patient_id=patient_id,
        status=status,
        number=f"INV-T-{secrets.token_hex(4)}" if issued else None,
        currency="USD",
        subtotal_minor=total,
        total_minor=total,
        issued_at=datetime.now(UTC) if issued else None,
        due_date=date(2026, 12, 31) if issued else None,
        created_by=clerk.id,
        lines=[
            InvoiceLine(
                position=1, code="99213", description="Video consultation, 15 minutes", quantity=1,
                unit_price_minor=total, tax_rate_bp=0, tax_minor=0, total_minor=total,
            )
        ],
    )  # fmt: skip
    async with transaction(sessions) as session:
        session.add(invoice)
    return invoice


async def test_a_patient_downloads_and_pays_an_invoice_by_card(
    page: Page, billing_server: tuple[LiveServer, FastAPI], sessions: async_sessionmaker[AsyncSession]
) -> None:
    server, _ = billing_server
    user, password = await patient_account(sessions)
    assert user.patient_id is not None
    invoice = await issued_invoice(sessions, user.patient_id, total=12550, status=InvoiceStatus.ISSUED)
    # Another patient's invoice, which this patient must never see.
    await issued_invoice(
        sessions, await patient_with_address(sessions), total=5000, status=InvoiceStatus.ISSUED
    )
    await sign_in(page, server, user.email, password)
    await expect(page).to_have_url(server.url + "/portal/")
    await page.get_by_role("link", name="My bills and payments").click()
    await expect(page).to_have_url(server.url + "/portal/billing")
    row = page.locator(f"#invoices li[data-invoice-id='{invoice.id}']")
    await expect(row).to_contain_text(invoice.number or "")
    await expect(row.locator(".balance")).to_have_text("to pay 125.50 USD")
    await expect(page.locator("#invoices > li")).to_have_count(1)

    async with page.expect_download() as pending:
        await row.get_by_role("button", name="Download PDF").click()
    download = await pending.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    assert (await asyncio.to_thread(Path(await download.path()).read_bytes))[:5] == b"%PDF-"

    # Every request the page makes while paying: none to Ownat may carry the card; the gateway's must.
    to_ownat: list[str] = []
    to_gateway: list[str] = []
    page.on(
        "request",
        lambda request: (to_ownat if request.url.startswith(server.url) else to_gateway).append(
            f"{request.url} {request.post_data or ''}"
        ),
    )

    # A declined card: said on the provider's page, and again back on the bills page; nothing is paid.
    await row.get_by_role("button", name="Pay…").click()
    dialog = page.locator("#pay-dialog")
    await expect(dialog).to_contain_text("Ownat never sees your card number")
    await expect(dialog.get_by_label("Amount")).to_have_value("125.50")
    await dialog.get_by_label("Amount").fill("100")
    await dialog.get_by_role("button", name="Continue to secure payment").click()
    await pay_on_gateway(page, "4000 0000 0000 0002")
    await expect(page.get_by_role("alert")).to_contain_text("Your card was declined. Nothing was charged.")
    await page.get_by_role("link", name="Cancel and return to Ownat").click()
    await expect(page).to_have_url(server.url + "/portal/billing")
    alert = page.locator("#messages").get_by_role("alert")
    await expect(alert).to_contain_text("Your payment did not go through")
    await expect(alert).to_contain_text("Your card was declined.")
    await expect(row.locator(".balance")).to_have_text("to pay 125.50 USD")

    # The test card pays part of it, then the rest.
    await row.get_by_role("button", name="Pay…").click()
    await dialog.get_by_label("Amount").fill("100")
    await dialog.get_by_role("button", name="Continue to secure payment").click()
    await pay_on_gateway(page, "4242 4242 4242 4242")
    await expect(page.locator("#messages")).to_contain_text(
        f"Thank you: 100.00 USD paid on invoice {invoice.number}."
    )
    await expect(row.locator(".balance")).to_have_text("to pay 25.50 USD")
    await row.get_by_role("button", name="Pay…").click()
    await expect(dialog.get_by_label("Amount")).to_have_value("25.50")
    await dialog.get_by_role("button", name="Continue to secure payment").click()
    await pay_on_gateway(page, "4242424242424242")
    await expect(row.locator(".status")).to_have_text("Paid")
    await expect(row.get_by_role("button", name="Pay…")).to_have_count(0)
    async with sessions() as session:
        stored = await session.get(Invoice, invoice.id)
        assert stored is not None and stored.status is InvoiceStatus.PAID and stored.paid_minor == 12550

    assert any("/checkout" in request for request in to_ownat)
    assert any("card_number=4242" in request for request in to_gateway)
    for request in to_ownat:
        flat = request.replace(" ", "").replace("-", "").replace("%20", "")
        assert "4242424242424242" not in flat and "4000000000000002" not in flat, request


async def pay_on_gateway(page: Page, card: str) -> None:
    """On the test gateway's page: the card, a date and a code, and Pay."""
    await expect(page.get_by_text("Test gateway")).to_be_visible()
    await page.get_by_label("Card number").fill(card)
    await page.get_by_label("Expiry (MM/YY)").fill("12/39")
    await page.get_by_label("Security code").fill("123")
    await page.get_by_role("button", name="Pay").click()


async def test_without_a_card_gateway_the_bills_page_offers_no_card_payment(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await patient_account(sessions)
    assert user.patient_id is not None
    invoice = await issued_invoice(sessions, user.patient_id, total=4000, status=InvoiceStatus.ISSUED)
    await sign_in(page, live_server, user.email, password)
    await expect(page).to_have_url(live_server.url + "/portal/")
    await page.goto(live_server.url + "/portal/billing")
    row = page.locator(f"#invoices li[data-invoice-id='{invoice.id}']")
    await expect(row.locator(".balance")).to_have_text("to pay 40.00 USD")
    await expect(row.get_by_role("button", name="Pay…")).to_have_count(0)
    await expect(page.locator("#no-card")).to_be_visible()
