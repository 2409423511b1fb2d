"""Builders for billing tests (shared with the insurance and reports tests): the fee schedule,
finished encounters, charges, issued invoices, and small helpers for calls and payments."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.fees import service as fees
from billing.fees.models import ServiceKind
from billing.fees.schemas import PriceCreate, ServiceCreate
from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from core.principal import SYSTEM
from core.sessions import transaction
from tests.clinical.encounter_builders import Staff

API = "/api/v1"
BILLING = f"{API}/billing"
CURRENCY = "EUR"
PRICES_FROM = date(2020, 1, 1)
# One set of consultation bands per run: each duration maps to exactly one consultation type.
CONSULTATIONS = (("CONS-S", 0, 15, 3_000), ("CONS-M", 15, 30, 5_500), ("CONS-L", 30, None, 8_000))
LAB_PRICES = {"2345-7": 1_200, "2823-3": 900}  # glucose, potassium
LAB_TAX_BP = 700


@dataclass(frozen=True)
class FeeSchedule:
    consultation_prices: dict[str, int]
    lab_codes: dict[str, str]  # LOINC -> billing code


async def add_service(
    sessions: async_sessionmaker[AsyncSession],
    *,
    kind: ServiceKind = ServiceKind.PROCEDURE,
    amount_minor: int = 2_500,
    tax_rate_bp: int | None = None,
    code: str | None = None,
    valid_from: date = PRICES_FROM,
    valid_to: date | None = None,
    **fields: Any,
) -> str:
    """A fee-schedule code with one price (open-ended unless `valid_to`), added through the service; returns the code."""
    code = code or f"P{secrets.token_hex(4).upper()}"
    async with transaction(sessions) as session:
        service = await fees.create_service(
            session=session,
            actor=SYSTEM,
            new=ServiceCreate(code=code, kind=kind, display=f"Service {code}", **fields),
        )
        await fees.add_price(
            session=session,
            actor=SYSTEM,
            service_id=service.id,
            currency=CURRENCY,
            new=PriceCreate(
                amount_minor=amount_minor,
                currency=CURRENCY,
                tax_rate_bp=tax_rate_bp,
                valid_from=valid_from,
                valid_to=valid_to,
            ),
        )
    return code


async def standard_fee_schedule(sessions: async_sessionmaker[AsyncSession]) -> FeeSchedule:
    """Consultation bands and lab test codes (once per run: see the session fixture)."""
    prices = {}
    for code, low, high, amount in CONSULTATIONS:
        await add_service(
            sessions,
            kind=ServiceKind.CONSULTATION,
            code=code,
            amount_minor=amount,
            min_duration_min=low,
            max_duration_min=high,
        )
        prices[code] = amount
    lab_codes = {}
    for loinc, amount in LAB_PRICES.items():
        lab_codes[loinc] = await add_service(
            sessions, kind=ServiceKind.LAB_TEST, amount_minor=amount, tax_rate_bp=LAB_TAX_BP, loinc_code=loinc
        )
    return FeeSchedule(consultation_prices=prices, lab_codes=lab_codes)


async def finished_encounter(
    sessions: async_sessionmaker[AsyncSession], clinician: Staff, patient_id: uuid.UUID, *, minutes: int
) -> uuid.UUID:
    """An encounter of `clinician` that lasted `minutes` and is finished (written directly: its
    lifecycle is the encounter tests' subject, the duration is ours)."""
    assert clinician.practitioner_id is not None
    ended = datetime.now(UTC) - timedelta(hours=1)
    encounter = Encounter(
        patient_id=patient_id,
        practitioner_id=clinician.practitioner_id,
        encounter_class=EncounterClass.AMBULATORY,
        status=EncounterStatus.FINISHED,
        started_at=ended - timedelta(minutes=minutes),
        ended_at=ended,
        created_by=clinician.user.id,
    )
    async with transaction(sessions) as session:
        session.add(encounter)
    return encounter.id


async def call(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON of an awaited response, failing the test with its body unless it has `status`."""
    answer: httpx.Response = await response
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else {}


async def charge(
    client: httpx.AsyncClient, headers: dict[str, str], patient_id: uuid.UUID, code: str, quantity: int = 1
) -> dict[str, Any]:
    """A charge for `code` entered by billing staff, dated today."""
    body = {
        "patient_id": str(patient_id),
        "code": code,
        "quantity": quantity,
        "service_date": date.today().isoformat(),
    }
    return await call(client.post(f"{BILLING}/charges", json=body, headers=headers), 201)


async def issued_invoice(
    client: httpx.AsyncClient, clerk: dict[str, str], patient_id: uuid.UUID, *charge_ids: str
) -> dict[str, Any]:
    """A draft of the patient's uninvoiced charges (or those named), issued."""
    body: dict[str, Any] = {"patient_id": str(patient_id)}
    if charge_ids:
        body["charge_ids"] = list(charge_ids)
    draft = await call(client.post(f"{BILLING}/invoices", json=body, headers=clerk), 201)
    return await call(client.post(f"{BILLING}/invoices/{draft['id']}/issue", headers=clerk))


def idempotent(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    """`headers` with a fresh (or the given) Idempotency-Key."""
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def pay(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    invoice_id: str,
    amount_minor: int,
    method: str = "cash",
    **body: Any,
) -> httpx.Response:
    """A payment request with a fresh Idempotency-Key (the response, whatever it is)."""
    payload = {"method": method, "amount_minor": amount_minor, "currency": CURRENCY, **body}
    return await client.post(
        f"{BILLING}/invoices/{invoice_id}/payments", json=payload, headers=idempotent(headers)
    )
