"""The patient's billing page in headless Chromium: a patient downloads and pays an invoice by card.

The billing office's journey is in test_billing_office.py. The app under test has card payments wired to the loopback gateway stand-in of the billing tests,
and is served over HTTP on a port of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from clinical.patients import service as patients
from core.identity.models import User
from core.identity.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from tests.billing.gateway_server import DECLINED_CARD, GatewayServer
from tests.billing.insurance_builders import patient_with_address
from tests.builders import create_user
from tests.web.conftest import LiveServer, serve


@pytest.fixture(scope="module")
async def billing_server(settings: Settings) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    """The app with card payments on the loopback gateway, served on a free loopback port."""
    gateway = GatewayServer()
    await gateway.start()
    app = create_app(
        settings.model_copy(
            update={
                "payment_gateway_url": gateway.url,
                "payment_gateway_secret_key": SecretStr(gateway.state.secret_key),
                "payment_webhook_secret": SecretStr(gateway.state.webhook_secret),
            }
        )
    )
    async with app.router.lifespan_context(app), serve(app) as served:
        yield served, app
    await gateway.stop()


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

    # A refused card: the reason is shown in the dialog and nothing is paid.
    await row.get_by_role("button", name="Pay…").click()
    dialog = page.locator("#pay-dialog")
    await expect(dialog.get_by_label("Amount")).to_have_value("125.50")
    await dialog.get_by_label("Amount").fill("100")
    await dialog.get_by_label("Card").fill(DECLINED_CARD)
    await dialog.get_by_role("button", name="Pay").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("declined")
    # Another card pays part of it, then the rest.
    await dialog.get_by_label("Card").fill("pm_card_visa")
    await dialog.get_by_role("button", name="Pay").click()
    await expect(page.locator("#messages")).to_contain_text("100.00 USD paid")
    await expect(row.locator(".balance")).to_have_text("to pay 25.50 USD")
    await row.get_by_role("button", name="Pay…").click()
    await expect(dialog.get_by_label("Amount")).to_have_value("25.50")
    await dialog.get_by_label("Card").fill("pm_card_visa")
    await dialog.get_by_role("button", name="Pay").click()
    await expect(row.locator(".status")).to_have_text("Paid")
    await expect(row.get_by_role("button", name="Pay…")).to_have_count(0)
    async with sessions() as session:
        stored = await session.get(Invoice, invoice.id)
        assert stored is not None and stored.status is InvoiceStatus.PAID and stored.paid_minor == 12550
