"""Data for the insurance and report tests: a finished encounter with diagnoses and charges, payers.

Rows go straight into the database in their own transactions (the encounter and charge APIs have
their own tests); payers, coverages and claims go through the API under test.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.charges.models import ChargeItem, ChargeSource
from billing.fees.models import BillableService, ServiceKind
from clinical.encounters.diagnoses.models import Diagnosis
from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from clinical.organisation.models import Practitioner
from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.principal import SYSTEM
from core.sessions import transaction
from tests.clinical.encounter_builders import People

API = "/api/v1"
DIAGNOSES = (("E11.9", "Type 2 diabetes mellitus without complications"), ("I10", "Essential hypertension"))


@dataclass(frozen=True)
class Visit:
    patient_id: uuid.UUID
    encounter_id: uuid.UUID
    charge_ids: tuple[uuid.UUID, ...]
    service_day: date


async def patient_with_address(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    data = PatientCreate(
        given_name="Ada",
        family_name=f"Claim-{secrets.token_hex(3)}",
        birth_date=date(1985, 12, 10),
        gender="female",
        address_line1="12 Main Street",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="US",
    )
    async with transaction(sessions) as session:
        return (await patients.create_patient(session=session, actor=SYSTEM, data=data)).id


async def finished_visit(
    people: People,
    *,
    patient_id: uuid.UUID,
    charges: tuple[tuple[str, int, int], ...] = (("99213", 1, 12550), ("36415", 2, 1500)),
    started_at: datetime | None = None,
    diagnoses: tuple[tuple[str, str], ...] = DIAGNOSES,
    currency: str = "USD",
    encounter_class: EncounterClass = EncounterClass.VIRTUAL,
) -> Visit:
    """A finished encounter with its diagnoses and charges (code, quantity, unit price in cents)."""
    clinician = await people.staff()
    start = started_at or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    async with transaction(people.sessions) as session:
        practitioner = await session.get(Practitioner, clinician.practitioner_id)
        assert practitioner is not None
        encounter = Encounter(
            patient_id=patient_id,
            practitioner_id=practitioner.id,
            encounter_class=encounter_class,
            status=EncounterStatus.FINISHED,
            started_at=start,
            ended_at=start + timedelta(minutes=20),
            created_by=clinician.user.id,
        )
        session.add(encounter)
        await session.flush()
        for rank, (code, display) in enumerate(diagnoses, start=1):
            session.add(
                Diagnosis(
                    encounter_id=encounter.id,
                    code=code,
                    display=display,
                    rank=rank,
                    recorded_by=clinician.user.id,
                )
            )
        service = BillableService(
            code=f"T-{secrets.token_hex(6)}", kind=ServiceKind.PROCEDURE, display="Test"
        )
        session.add(service)
        await session.flush()
        rows = [
            ChargeItem(
                patient_id=patient_id,
                encounter_id=encounter.id,
                service_id=service.id,
                source_type=ChargeSource.MANUAL,
                source_key=str(uuid.uuid4()),
                code=code,
                description=f"Service {code}",
                service_date=start.date(),
                quantity=quantity,
                unit_price_minor=unit_minor,
                currency=currency,
                tax_rate_bp=0,
                created_by=clinician.user.id,
            )
            for code, quantity, unit_minor in charges
        ]
        session.add_all(rows)
        await session.flush()
        return Visit(patient_id, encounter.id, tuple(row.id for row in rows), start.date())


async def payer(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    token = secrets.token_hex(4).upper()
    body = {"name": f"Acme Health {token}", "electronic_id": f"ACME{token}"}
    response = await client.post(f"{API}/insurance/payers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def coverage(
    client: httpx.AsyncClient, headers: dict[str, str], patient_id: uuid.UUID, payer_id: str, **body: Any
) -> dict[str, Any]:
    data = {
        "payer_id": payer_id,
        "member_id": f"XZ{secrets.token_hex(4)}",
        "group_number": "GRP-778",
        "plan_name": "Acme Gold PPO",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        **body,
    }
    response = await client.post(f"{API}/patients/{patient_id}/coverages", json=data, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def claim(
    client: httpx.AsyncClient, headers: dict[str, str], visit: Visit, coverage_id: str
) -> dict[str, Any]:
    body = {"encounter_id": str(visit.encounter_id), "coverage_id": coverage_id}
    response = await client.post(f"{API}/insurance/claims", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
