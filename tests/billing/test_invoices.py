"""Invoices: drafts, discounts and tax, issuing with gapless yearly numbers, voiding, PDF, history."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.invoices.models import Invoice, InvoiceCounter
from core.audit.models import AuditEvent
from core.outbox import EventType
from core.outbox.models import OutboxEvent
from core.principal import Role
from tests.billing.builders import BILLING, add_service, call, charge, issued_invoice
from tests.clinical.encounter_builders import People


async def test_a_draft_totals_discounts_and_tax_then_freezes_when_issued(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient = await people.patient()
    taxed = await add_service(billing_sessions, amount_minor=1_999, tax_rate_bp=1_900)
    untaxed = await add_service(billing_sessions, amount_minor=5_000)
    await charge(billing_client, clerk, patient.patient_id, taxed, quantity=3)
    await charge(billing_client, clerk, patient.patient_id, untaxed)
    draft = await call(
        billing_client.post(
            f"{BILLING}/invoices", json={"patient_id": str(patient.patient_id)}, headers=clerk
        ),
        201,
    )
    assert (draft["status"], draft["number"]) == ("draft", None)
    line = next(li for li in draft["lines"] if li["code"] == taxed)
    draft = await call(
        billing_client.patch(
            f"{BILLING}/invoices/{draft['id']}/lines/{line['id']}",
            json={"discount_minor": 997},
            headers=clerk,
        )
    )
    # 3 x 19.99 - 9.97 = 50.00 net; 19 % tax = 9.50; plus 50.00 untaxed.
    assert (draft["subtotal_minor"], draft["discount_minor"], draft["tax_minor"], draft["total_minor"]) == (
        10_997,
        997,
        950,
        10_950,
    )
    assert (
        await billing_client.get(f"{BILLING}/invoices/{draft['id']}", headers=patient.headers)
    ).status_code == 404

    issued = await call(billing_client.post(f"{BILLING}/invoices/{draft['id']}/issue", headers=clerk))
    assert issued["status"] == "issued" and re.fullmatch(r"INV-\d{4}-\d{6}", issued["number"])
    assert issued["total_minor"] == 10_950 and issued["balance_minor"] == 10_950

    edit = await billing_client.patch(
        f"{BILLING}/invoices/{draft['id']}/lines/{line['id']}", json={"discount_minor": 0}, headers=clerk
    )
    assert edit.status_code == 409
    assert edit.headers["content-type"] == "application/problem+json"
    assert edit.json()["code"] == "invoice-not-editable"
    mine = await call(billing_client.get(f"{BILLING}/invoices/{draft['id']}", headers=patient.headers))
    assert mine == issued


async def test_concurrent_issues_take_consecutive_numbers_without_gaps(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    code = await add_service(billing_sessions, amount_minor=100)
    drafts = []
    for _ in range(6):
        patient_id = await people.patient_record()
        await charge(billing_client, clerk, patient_id, code)
        drafts.append(
            await call(
                billing_client.post(
                    f"{BILLING}/invoices", json={"patient_id": str(patient_id)}, headers=clerk
                ),
                201,
            )
        )
    answers = await asyncio.gather(
        *(billing_client.post(f"{BILLING}/invoices/{d['id']}/issue", headers=clerk) for d in drafts)
    )
    numbers = sorted(int(a.json()["number"].rsplit("-", 1)[1]) for a in answers)
    assert numbers == list(range(numbers[0], numbers[0] + 6))
    year = int(answers[0].json()["number"].split("-")[1])
    async with billing_sessions() as session:
        counter = await session.get(InvoiceCounter, year)
        issued = await session.scalar(
            select(Invoice.number)
            .where(Invoice.number.like(f"INV-{year}-%"))
            .order_by(Invoice.number.desc())
            .limit(1)
        )
    assert counter is not None and issued == f"INV-{year}-{counter.last_number:06d}"


async def test_voiding_frees_the_charges_and_keeps_the_number(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient_id = await people.patient_record()
    item = await charge(billing_client, clerk, patient_id, await add_service(billing_sessions))
    invoice = await issued_invoice(billing_client, clerk, patient_id)
    voided = await call(
        billing_client.post(
            f"{BILLING}/invoices/{invoice['id']}/void", json={"reason": "wrong patient"}, headers=clerk
        )
    )
    assert (voided["status"], voided["number"]) == ("void", invoice["number"])
    again = await issued_invoice(billing_client, clerk, patient_id, item["id"])
    assert again["number"] != invoice["number"] and again["total_minor"] == invoice["total_minor"]


async def test_the_patient_downloads_their_invoice_as_pdf_and_nobody_else_does(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient, stranger = await people.patient(), await people.patient()
    await charge(
        billing_client, clerk, patient.patient_id, await add_service(billing_sessions, amount_minor=12_345)
    )
    invoice = await issued_invoice(billing_client, clerk, patient.patient_id)
    url = f"{BILLING}/invoices/{invoice['id']}/pdf"
    answer = await billing_client.get(url, headers=patient.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-") and answer.content.rstrip().endswith(b"%%EOF")
    assert invoice["number"] in answer.headers["content-disposition"]
    for headers, status in ((stranger.headers, 403), (await people.headers_of(Role.NURSE), 403), ({}, 401)):
        assert (await billing_client.get(url, headers=headers)).status_code == status
    async with billing_sessions() as session:
        reads = await session.scalars(
            select(AuditEvent).where(
                AuditEvent.resource_id == invoice["id"], AuditEvent.actor_id == patient.user.id
            )
        )
        assert {(e.action, e.outcome) for e in reads} >= {("read", "success")}


async def test_billing_history_pages_newest_first_and_patients_see_only_their_own(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient, other = await people.patient(), await people.patient()
    code = await add_service(billing_sessions, amount_minor=500)
    ids = []
    for _ in range(5):
        await charge(billing_client, clerk, patient.patient_id, code)
        ids.append((await issued_invoice(billing_client, clerk, patient.patient_id))["id"])
    await charge(billing_client, clerk, other.patient_id, code)
    await issued_invoice(billing_client, clerk, other.patient_id)
    await charge(billing_client, clerk, patient.patient_id, code)
    await call(
        billing_client.post(
            f"{BILLING}/invoices", json={"patient_id": str(patient.patient_id)}, headers=clerk
        ),
        201,
    )

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await call(billing_client.get(f"{BILLING}/invoices", params=params, headers=patient.headers))
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids[::-1]  # newest first, no drafts, nobody else's
    foreign = await billing_client.get(
        f"{BILLING}/invoices", params={"patient_id": str(other.patient_id)}, headers=patient.headers
    )
    assert foreign.status_code == 403
    staff_view = await call(
        billing_client.get(
            f"{BILLING}/invoices", params={"patient_id": str(patient.patient_id)}, headers=clerk
        )
    )
    assert staff_view["items"][0]["status"] == "draft"
    for role in (Role.CLINICIAN, Role.NURSE):
        assert (
            await billing_client.get(f"{BILLING}/invoices", headers=await people.headers_of(role))
        ).status_code == 403


async def test_issuing_tells_the_patient_through_the_outbox_and_a_draft_does_not(
    billing_client: httpx.AsyncClient,
    billing_sessions: async_sessionmaker[AsyncSession],
    people: People,
    clerk: dict[str, str],
) -> None:
    patient = await people.patient()
    await charge(
        billing_client, clerk, patient.patient_id, await add_service(billing_sessions, amount_minor=4_200)
    )
    body = {"patient_id": str(patient.patient_id)}
    draft = await call(billing_client.post(f"{BILLING}/invoices", json=body, headers=clerk), 201)

    async def events() -> list[dict]:
        async with billing_sessions() as session:
            rows = await session.scalars(
                select(OutboxEvent.payload).where(OutboxEvent.event_type == EventType.INVOICE_ISSUED.value)
            )
            return [payload for payload in rows if payload.get("invoice_id") == draft["id"]]

    assert await events() == []
    await call(billing_client.post(f"{BILLING}/invoices/{draft['id']}/issue", headers=clerk))
    [payload] = await events()
    assert (payload["patient_id"], payload["amount_minor"]) == (str(patient.patient_id), 4_200)
