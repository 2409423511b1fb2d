"""The billing office's journey in headless Chromium, as a billing clerk: a finished consultation is
charged and invoiced, part paid and refunded; the patient's insurer and coverage are added, a second
visit is claimed, the claim submitted and its 837P downloaded.

The app bills in US dollars (837P files are US-only) on a database of its own, so its fee schedule
(whose consultation bands may not overlap) is its own too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from billing.fees import service as fees
from billing.fees.models import ServiceKind
from billing.fees.schemas import PriceCreate, ServiceCreate
from billing.insurance.models import Claim
from billing.invoices.models import Invoice
from clinical.patients.models import Patient
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from ownat import migrate
from tests.billing.insurance_builders import finished_visit, patient_with_address
from tests.billing.test_insurance_claims import PROVIDER_ENV
from tests.builders import create_user
from tests.clinical.encounter_builders import People
from tests.web.conftest import LiveServer, serve
from tests.web.dashboard_world import sign_in

CONSULTATION_BANDS = (("C-SHORT", 0, 15, 3_000), ("C-MID", 15, 30, 5_500), ("C-LONG", 30, None, 8_000))


@pytest.fixture(scope="module")
async def office(settings: Settings, databases: Any) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    """The app billing in US dollars on a fresh database, served on a free loopback port."""
    url = databases.create("billing_office")
    await migrate.upgrade_async(url)
    app = create_app(settings.model_copy(update={"database_url": url, "currency": "USD"}))
    async with app.router.lifespan_context(app):
        await _fee_schedule(app.state.resources.sessions)
        async with serve(app) as served:
            yield served, app


async def _fee_schedule(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        for code, low, high, amount in CONSULTATION_BANDS:
            service = await fees.create_service(
                session=session,
                actor=SYSTEM,
                new=ServiceCreate(
                    code=code,
                    kind=ServiceKind.CONSULTATION,
                    display=f"Consultation {low}+ minutes",
                    min_duration_min=low,
                    max_duration_min=high,
                ),
            )
            price = PriceCreate(amount_minor=amount, currency="USD", valid_from=date(2020, 1, 1))
            await fees.add_price(
                session=session, actor=SYSTEM, service_id=service.id, new=price, currency="USD"
            )


async def test_a_consultation_is_invoiced_part_paid_refunded_and_claimed(
    page: Page, office: tuple[LiveServer, FastAPI], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PROVIDER_ENV.items():
        monkeypatch.setenv(name, value)
    server, app = office
    sessions: async_sessionmaker[AsyncSession] = app.state.resources.sessions
    people = People(sessions, settings)
    patient_id = await patient_with_address(sessions)
    async with sessions() as session:
        patient = await session.get(Patient, patient_id)
    assert patient is not None
    name = patient.display_name
    now = datetime.now(UTC)
    await finished_visit(people, patient_id=patient_id, charges=(), started_at=now - timedelta(days=3))
    await finished_visit(people, patient_id=patient_id, charges=(), started_at=now - timedelta(days=1))
    clerk, password = await create_user(sessions, role=Role.BILLING, full_name="Robin Clerk")

    await sign_in(page, server, clerk.email, password)
    await expect(page).to_have_url(re.compile(r"/billing/"))
    to_charge = page.locator("#to-charge tbody tr", has_text=name)
    await expect(to_charge).to_have_count(2)

    # The older visit (20 minutes) is charged from the fee schedule: the 15-30 minute band.
    await to_charge.last.get_by_role("button", name="Charge…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Charge").click()
    await expect(page.locator("#messages")).to_contain_text(
        f"Charged {name}: C-MID Consultation 15+ minutes 55.00 USD"
    )
    account = page.locator("#accounts tbody tr", has_text=name)
    await expect(account).to_contain_text("1 · 55.00 USD before tax")

    # An invoice is drafted from the open charge and issued after a confirmation.
    await account.get_by_role("button", name="Draft invoice…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Draft invoice").click()
    await expect(page.get_by_role("tab", name="Invoices")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#invoice-patient")).to_contain_text(f"Showing {name}'s invoices.")
    row = page.locator("#invoice-rows tr").first
    await expect(row).to_contain_text("Draft")
    await expect(row.locator(".balance")).to_have_text("55.00 USD")
    await row.get_by_role("button", name="Issue…").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("can no longer be edited")
    await confirm.get_by_role("button", name="Issue invoice").click()
    await expect(page.locator("#messages")).to_contain_text(f"Invoice issued to {name}.")
    await expect(row).to_contain_text(re.compile(r"INV-\d{4}-\d{6}"))
    await expect(row.locator(".status")).to_have_text("Issued")

    # A part payment in cash; an amount that is not one is explained in the dialog, in words.
    await row.get_by_role("button", name="Record payment…").click()
    payment = page.locator("#payment-dialog")
    await payment.get_by_label("Amount (USD)").fill("twenty")
    await payment.get_by_role("button", name="Record payment").click()
    await expect(payment.get_by_role("alert")).to_contain_text("enter an amount in USD, such as 12.50")
    await payment.get_by_label("Amount (USD)").fill("20")
    await payment.get_by_label("Reference (receipt or bank reference)").fill("RCPT-77")
    await payment.get_by_role("button", name="Record payment").click()
    await expect(page.locator("#messages")).to_contain_text(f"20.00 USD received from {name} (cash)")
    await expect(row.locator(".status")).to_have_text("Part paid")
    await expect(row.locator(".balance")).to_have_text("35.00 USD")

    # The payment is refunded in part; the balance reopens by as much.
    await row.get_by_role("button", name="Payments").click()
    paid = page.locator("#payment-rows li").first
    await expect(paid).to_contain_text("20.00 USD cash")
    await expect(paid).to_contain_text("RCPT-77")
    await paid.get_by_role("button", name="Refund…").click()
    refund = page.locator("#refund-dialog")
    await refund.get_by_label("Amount (USD)").fill("5")
    await refund.get_by_label("Reason").fill("Charged twice for parking")
    await refund.get_by_role("button", name="Refund").click()
    await expect(page.locator("#messages")).to_contain_text(f"Refunded 5.00 USD to {name}.")
    await expect(page.locator("#payment-rows li").first).to_contain_text("refunded 5.00 USD")
    await expect(row.locator(".balance")).to_have_text("40.00 USD")

    # The patient's insurer and coverage.
    await page.get_by_role("tab", name="Payers and coverages").click()
    await page.get_by_text("Add a payer").click()
    payer_form = page.locator("#payer-form")
    await payer_form.get_by_label("Name").fill("Prairie Mutual")
    await payer_form.get_by_label("Electronic payer id").fill("PRAIRIE1")
    await payer_form.get_by_role("button", name="Add payer").click()
    await expect(page.locator("#messages")).to_contain_text("Prairie Mutual added.")
    insurance = page.locator("#panel-insurance")
    await insurance.get_by_label("Patient (name or MRN)").fill(patient.family_name)
    await insurance.get_by_role("button", name="Find patient").click()
    await insurance.locator(".picker-results li", has_text=name).get_by_role("button", name="Choose").click()
    coverage = page.locator("#coverage-form")
    await coverage.get_by_label("Payer").select_option(label="Prairie Mutual")
    await coverage.get_by_label("Plan").fill("Prairie Gold")
    await coverage.get_by_label("Member id").fill("PM-4411")
    await coverage.get_by_label("Covered from").fill("2020-01-01")
    await coverage.get_by_role("button", name="Add coverage").click()
    await expect(page.locator("#coverage-list")).to_contain_text("Prairie Mutual: Prairie Gold")

    # The other visit is charged and claimed from the insurer, the claim submitted, its 837P downloaded.
    await page.get_by_role("tab", name="To bill").click()
    await page.locator("#to-charge tbody tr", has_text=name).get_by_role("button", name="Charge…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Charge").click()
    await expect(page.locator("#messages")).to_contain_text(f"Charged {name}")
    await (
        page.locator("#claimable tbody tr", has_text=name)
        .get_by_role("button", name="Start a claim…")
        .click()
    )
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_label("Coverage")).to_contain_text(
        "Prairie Mutual: Prairie Gold, member PM-4411"
    )
    await dialog.get_by_role("button", name="Draft claim").click()
    await expect(page.locator("#messages")).to_contain_text("drafted for 55.00 USD")
    await page.get_by_role("tab", name="Claims").click()
    claim_row = page.locator("#claim-rows tr", has_text=name)
    await expect(claim_row).to_contain_text("Prairie Mutual")
    await expect(claim_row.locator(".status")).to_have_text("Draft")
    await claim_row.get_by_role("button", name="Submit…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Submit claim").click()
    await expect(claim_row.locator(".status")).to_have_text("Submitted")
    async with page.expect_download() as pending:
        await claim_row.get_by_role("button", name="837P").click()
    download = await pending.value
    assert re.fullmatch(r"CL\d+\.x12", download.suggested_filename)
    x12 = await asyncio.to_thread(Path(await download.path()).read_text)
    assert x12.startswith("ISA*") and "CLM*" in x12 and "*55*" in x12

    async with sessions() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.patient_id == patient_id))
        claim = await session.scalar(select(Claim).where(Claim.patient_id == patient_id))
    assert invoice is not None and (invoice.total_minor, invoice.paid_minor) == (5_500, 1_500)
    assert claim is not None and claim.status.value == "submitted" and claim.total_minor == 5_500
