"""Billing on the embedded default (SQLite): fee schedule, charges, invoice numbers, payments, PDF."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from core.principal import Role
from core.settings import Settings
from ownat import migrate
from tests.billing.builders import BILLING, add_service, call, charge, issued_invoice, pay
from tests.builders import http_client
from tests.clinical.encounter_builders import People

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
async def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    data_dir: Path = tmp_path_factory.mktemp("billing-sqlite")
    settings = Settings(
        _env_file=None,
        environment="test",
        data_dir=data_dir,
        secret_key=secrets.token_urlsafe(48),
        log_json=False,
    )
    await migrate.upgrade_async(settings.effective_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_billing_works_on_sqlite(sqlite_app: FastAPI) -> None:
    resources = sqlite_app.state.resources
    people = People(sessions=resources.sessions, settings=resources.settings)
    clerk = (await people.staff(Role.BILLING)).headers
    patient = await people.patient()
    async with http_client(sqlite_app) as client:
        code = await add_service(resources.sessions, amount_minor=2_000, tax_rate_bp=500)
        service = next(
            s for s in await call(client.get(f"{BILLING}/services", headers=clerk)) if s["code"] == code
        )
        overlap = {"amount_minor": 1, "currency": "EUR", "valid_from": "2024-01-01"}
        assert (
            await client.post(f"{BILLING}/services/{service['id']}/prices", json=overlap, headers=clerk)
        ).status_code == 409

        numbers = []
        for _ in range(2):
            await charge(client, clerk, patient.patient_id, code)
            numbers.append((await issued_invoice(client, clerk, patient.patient_id))["number"])
        assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1
        invoices = await call(client.get(f"{BILLING}/invoices", headers=patient.headers))
        invoice = invoices["items"][0]
        assert invoice["total_minor"] == 2_100

        assert (await pay(client, clerk, invoice["id"], 2_101)).status_code == 409
        payment = await call(pay(client, clerk, invoice["id"], 2_100), 201)
        refund = {"amount_minor": 100, "currency": "EUR"}
        headers = {**clerk, "Idempotency-Key": "sqlite-refund"}
        await call(
            client.post(f"{BILLING}/payments/{payment['id']}/refunds", json=refund, headers=headers), 201
        )
        after = await call(client.get(f"{BILLING}/invoices/{invoice['id']}", headers=patient.headers))
        assert (after["status"], after["paid_minor"]) == ("partially_paid", 2_000)
        pdf = await client.get(f"{BILLING}/invoices/{invoice['id']}/pdf", headers=patient.headers)
        assert pdf.content.startswith(b"%PDF-")
