"""Billing accounts: administrators create them; they manage billing and are refused everything clinical."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from tests.billing.builders import API, BILLING, call
from tests.builders import login, strong_password, unique_email
from tests.clinical.encounter_builders import People


async def test_an_administrator_creates_a_billing_clerk_who_bills_but_sees_no_charts(
    billing_client: httpx.AsyncClient, billing_sessions: async_sessionmaker[AsyncSession], people: People
) -> None:
    admin = await people.headers_of(Role.ADMIN)
    email, password = unique_email("clerk"), strong_password()
    account = {"email": email, "password": password, "full_name": "Bea Billing", "role": "billing"}
    created = await call(billing_client.post(f"{API}/users", json=account, headers=admin), 201)
    assert created["role"] == "billing"
    nurse = await people.headers_of(Role.NURSE)
    assert (
        await billing_client.post(f"{API}/users", json={**account, "email": unique_email()}, headers=nurse)
    ).status_code == 403

    clerk = await login(billing_client, email, password)
    assert (await billing_client.get(f"{BILLING}/invoices", headers=clerk)).status_code == 200
    patient_id = await people.patient_record()
    refused = await billing_client.get(f"{API}/patients/{patient_id}", headers=clerk)
    assert refused.status_code == 403
    async with billing_sessions() as session:
        denied = await session.scalar(
            select(AuditEvent).where(AuditEvent.actor_id == created["id"], AuditEvent.outcome == "denied")
        )
    assert denied is not None and denied.patient_id == patient_id
