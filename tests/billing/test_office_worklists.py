"""The billing office's worklists and names: finished encounters to charge, patients with open charges
and balances, and invoices and claims that name their patient. Managers only, audited."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.patients.models import Patient
from core.audit.models import AuditEvent
from core.principal import Role
from tests.billing.builders import BILLING, FeeSchedule, call, finished_encounter
from tests.clinical.encounter_builders import People


async def _accounts(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> list[dict[str, Any]]:
    """The billing accounts the office finds with `query` (a list, unlike the other answers)."""
    response = await client.get(f"{BILLING}/patients?{query}", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def _patient(sessions: async_sessionmaker[AsyncSession], patient_id: uuid.UUID) -> Patient:
    async with sessions() as session:
        patient = await session.get(Patient, patient_id)
    assert patient is not None
    return patient


async def test_the_office_charges_a_finished_encounter_and_invoices_its_patient_by_name(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    fee_schedule: FeeSchedule,
) -> None:
    clerk = await people.staff(Role.BILLING)
    clinician = await people.staff(Role.CLINICIAN)
    patient_id = await people.patient_record()
    patient = await _patient(billing_sessions, patient_id)
    encounter_id = await finished_encounter(billing_sessions, clinician, patient_id, minutes=22)
    encounters = f"{BILLING}/encounters"

    # Still to charge: the encounter with its patient's and practitioner's names, nothing charged.
    todo = await call(billing_client.get(f"{encounters}?charged=false&limit=100", headers=clerk.headers))
    item = next(i for i in todo["items"] if i["id"] == str(encounter_id))
    assert item["patient_name"] == patient.display_name and item["patient_mrn"] == patient.mrn
    assert item["practitioner_name"].startswith("Sam Test-")
    assert (item["duration_s"], item["charges"], item["claims"]) == (22 * 60, 0, [])

    await call(
        billing_client.post(f"{encounters}/{encounter_id}/charges", json={}, headers=clerk.headers), 201
    )
    done = await call(
        billing_client.get(f"{encounters}?charged=true&patient_id={patient_id}", headers=clerk.headers)
    )
    assert [(i["charges"], i["uninvoiced_charges"], i["charged_minor"]) for i in done["items"]] == [
        (1, 1, 5_500)
    ]
    still = await call(
        billing_client.get(f"{encounters}?charged=false&patient_id={patient_id}", headers=clerk.headers)
    )
    assert still["items"] == []

    # The patient now has something to bill: found without criteria, and by name.
    open_accounts = await _accounts(billing_client, clerk.headers, "limit=50")
    by_name = await _accounts(billing_client, clerk.headers, f"name={patient.family_name}")
    assert by_name == [a for a in open_accounts if a["patient_id"] == str(patient_id)]
    assert by_name[0] == {
        "patient_id": str(patient_id),
        "name": patient.display_name,
        "mrn": patient.mrn,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "open_charges": 1,
        "open_charges_minor": 5_500,
        "held_charges": 0,
        "held_charge_ids": [],
        "open_invoices": 0,
        "balance_minor": 0,
        "currency": "EUR",
    }

    draft = await call(
        billing_client.post(
            f"{BILLING}/invoices", json={"patient_id": str(patient_id)}, headers=clerk.headers
        ),
        201,
    )
    assert (draft["patient_name"], draft["patient_mrn"]) == (patient.display_name, patient.mrn)
    await call(billing_client.post(f"{BILLING}/invoices/{draft['id']}/issue", headers=clerk.headers))
    listed = await call(
        billing_client.get(f"{BILLING}/invoices?patient_id={patient_id}", headers=clerk.headers)
    )
    assert [i["patient_name"] for i in listed["items"]] == [patient.display_name]
    account = await _accounts(billing_client, clerk.headers, f"identifier={patient.mrn}")
    assert (account[0]["open_charges"], account[0]["open_invoices"]) == (0, 1)
    assert account[0]["balance_minor"] == listed["items"][0]["balance_minor"]

    async with billing_sessions() as session:
        reads = set(
            await session.scalars(
                select(AuditEvent.resource_type).where(
                    AuditEvent.actor_id == clerk.user.id, AuditEvent.patient_id == patient_id
                )
            )
        )
    assert {"encounter", "billing_account", "invoice"} <= reads


async def test_only_billing_managers_use_the_worklists(
    billing_client: httpx.AsyncClient, people: People
) -> None:
    for role in (Role.CLINICIAN, Role.NURSE, Role.PATIENT):
        headers = await people.headers_of(role)
        for path in ("/patients", "/encounters"):
            response = await billing_client.get(f"{BILLING}{path}", headers=headers)
            assert response.status_code == 403, (role, path, response.text)
    assert (await billing_client.get(f"{BILLING}/patients")).status_code == 401
    terms = await call(billing_client.get(f"{BILLING}/settings", headers=headers))
    assert terms == {"currency": "EUR", "default_tax_rate_bp": 0, "payment_terms_days": 30}
