"""Clinical data for the FHIR tests, built on the other domains' builders and tables.

Rows are written in their own transactions (as the scheduling builders do), so each test owns its
data; names carry a random token so that searches by name match only that test's patients.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters.diagnoses.models import Diagnosis
from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from clinical.encounters.prescriptions.models import (
    DoseUnit,
    PeriodUnit,
    Prescription,
    PrescriptionStatus,
    Route,
)
from clinical.encounters.recorded_vitals.models import RecordedVital
from clinical.lab.models import LabOrder, LabOrderItem, LabResult
from clinical.lab.terms import AbnormalFlag, OrderStatus, Priority, ResultStatus, ValueType
from clinical.organisation.models import Practitioner
from clinical.patients import service as patients
from clinical.patients.models import Allergy, Condition, PatientIdentifier
from clinical.patients.schemas import PatientCreate
from clinical.patients.terms import AdministrativeGender, AllergyCriticality, ConditionStatus
from clinical.scheduling.models import Appointment, AppointmentType
from core.identity.models import User
from core.principal import SYSTEM, Role
from core.sessions import transaction
from devices.vitals.models import VitalReading
from tests.builders import create_user, login
from tests.clinical import builders as clinical
from tests.clinical import scheduling_builders as scheduling

Sessions = async_sessionmaker[AsyncSession]


def token() -> str:
    """A random word that makes a name unique to one test."""
    return f"Zq{secrets.token_hex(4)}"


async def patient_record(
    sessions: Sessions,
    *,
    family: str | None = None,
    given: str = "Alma",
    birth_date: date = date(1980, 5, 17),
    gender: AdministrativeGender = AdministrativeGender.FEMALE,
) -> uuid.UUID:
    """A patient registered by staff (no account); returns its id."""
    data = PatientCreate(
        given_name=given,
        family_name=family or token(),
        birth_date=birth_date,
        gender=gender,
        phone="+44 20 7946 0000",
        city="London",
        country="GB",
        preferred_language="en-GB",
        emergency_contact_name="Sam Contact",
        emergency_contact_relationship="partner",
    )
    async with transaction(sessions) as session:
        return (await patients.create_patient(session=session, actor=SYSTEM, data=data)).id


async def identifier(sessions: Sessions, patient_id: uuid.UUID, *, system: str, value: str) -> None:
    async with transaction(sessions) as session:
        session.add(
            PatientIdentifier(patient_id=patient_id, system=system, value=value, type_text="National id")
        )


async def patient_user(client: httpx.AsyncClient, sessions: Sessions) -> tuple[User, dict[str, str]]:
    """A signed-in patient with their patient record."""
    user, _, password = await clinical.create_patient_user(sessions)
    return user, await login(client, user.email, password)


async def staff_headers(client: httpx.AsyncClient, sessions: Sessions, role: Role) -> dict[str, str]:
    user, password = await create_user(sessions, role=role)
    response = await client.post("/api/v1/auth/login", json={"email": user.email, "password": password})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def device_readings(sessions: Sessions, patient_id: uuid.UUID | None, *, count: int = 2) -> str:
    """`count` heart-rate readings of a new device, a minute apart, attributed to `patient_id`."""
    device_id = f"mon-{secrets.token_hex(4)}"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    async with transaction(sessions) as session:
        session.add_all(
            VitalReading(
                time=start + timedelta(minutes=i),
                device_id=device_id,
                patient_id=patient_id,
                metric="8867-4",
                value=70.0 + i,
                unit="/min",
            )
            for i in range(count)
        )
    return device_id


@dataclass
class Chart:
    """One patient's record across the domains, as the FHIR tests need it."""

    patient_id: uuid.UUID
    practitioner: Practitioner
    kind: AppointmentType
    appointment: Appointment
    encounter: Encounter
    condition: Condition
    diagnosis: Diagnosis
    allergy: Allergy
    prescription: Prescription
    vital: RecordedVital
    order: LabOrder
    final_result: LabResult
    preliminary_order: LabOrder
    preliminary_result: LabResult


async def chart(sessions: Sessions, patient_id: uuid.UUID) -> Chart:
    """An appointment, an encounter with a diagnosis and a prescription, a problem, an allergy, a
    recorded vital, a final lab order with one result and a preliminary one with another."""
    practitioner = await scheduling.practitioner(sessions, specialties=["cardiology"])
    kind = await scheduling.appointment_type(sessions)
    # Mid-morning three days ago: the 20-minute encounter lies within one day (from 23:40 UTC it crossed
    # midnight, and searches by its day found nothing).
    start = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = await scheduling.appointment_row(
        sessions, patient_id=patient_id, practitioner_id=practitioner.id, kind=kind, start_at=start
    )
    clerk, _ = await create_user(sessions, role=Role.CLINICIAN)
    async with transaction(sessions) as session:
        encounter = Encounter(
            patient_id=patient_id,
            practitioner_id=practitioner.id,
            appointment_id=appointment.id,
            encounter_class=EncounterClass.AMBULATORY,
            status=EncounterStatus.FINISHED,
            reason="Chest pain",
            started_at=start,
            ended_at=start + timedelta(minutes=20),
            created_by=clerk.id,
        )
        session.add(encounter)
        await session.flush()
        diagnosis = Diagnosis(
            encounter_id=encounter.id,
            code="I20.9",
            display="Angina pectoris, unspecified",
            rank=1,
            recorded_by=clerk.id,
        )
        condition = Condition(
            patient_id=patient_id,
            icd10_code="E11.9",
            display="Type 2 diabetes mellitus without complications",
            clinical_status=ConditionStatus.ACTIVE,
            onset_date=date(2019, 4, 1),
        )
        allergy = Allergy(
            patient_id=patient_id,
            substance_text="Penicillin",
            substance_code="764146007",
            substance_system="http://snomed.info/sct",
            criticality=AllergyCriticality.HIGH,
            reaction="Hives",
        )
        prescription = Prescription(
            patient_id=patient_id,
            encounter_id=encounter.id,
            prescriber_id=practitioner.id,
            medication_name="Metformin 500 mg tablet",
            dose_quantity=Decimal("1"),
            dose_unit=DoseUnit.TABLET,
            route=Route.ORAL,
            frequency_count=2,
            frequency_period=1,
            frequency_period_unit=PeriodUnit.DAY,
            duration_days=30,
            instructions="With meals",
            status=PrescriptionStatus.ACTIVE,
        )
        vital = RecordedVital(
            patient_id=patient_id,
            encounter_id=encounter.id,
            metric_code="8867-4",
            value=72.0,
            unit="/min",
            measured_at=start + timedelta(minutes=5),
            recorded_by=clerk.id,
        )
        session.add_all([diagnosis, condition, allergy, prescription, vital])
        order, final_result = await _lab_order(
            session,
            patient_id,
            practitioner.id,
            clerk.id,
            encounter.id,
            OrderStatus.FINAL,
            ResultStatus.FINAL,
        )
        preliminary_order, preliminary_result = await _lab_order(
            session,
            patient_id,
            practitioner.id,
            clerk.id,
            None,
            OrderStatus.PRELIMINARY,
            ResultStatus.PRELIMINARY,
        )
    return Chart(
        patient_id,
        practitioner,
        kind,
        appointment,
        encounter,
        condition,
        diagnosis,
        allergy,
        prescription,
        vital,
        order,
        final_result,
        preliminary_order,
        preliminary_result,
    )


async def _lab_order(
    session: AsyncSession,
    patient_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    user_id: uuid.UUID,
    encounter_id: uuid.UUID | None,
    status: OrderStatus,
    result_status: ResultStatus,
) -> tuple[LabOrder, LabResult]:
    now = datetime.now(UTC)
    order = LabOrder(
        placer_order_number=f"PL{secrets.token_hex(6).upper()}",
        patient_id=patient_id,
        encounter_id=encounter_id,
        ordering_practitioner_id=practitioner_id,
        ordered_by=user_id,
        priority=Priority.ROUTINE,
        status=status,
        collected_at=now - timedelta(hours=2),
        preliminary_at=now - timedelta(hours=1),
        final_at=now if status is OrderStatus.FINAL else None,
        items=[
            LabOrderItem(
                position=1,
                loinc_code="2345-7",
                display="Glucose [Mass/volume] in Serum or Plasma",
                specimen="serum",
                unit="mg/dL",
            )
        ],
    )
    session.add(order)
    await session.flush()
    result = LabResult(
        order_item_id=order.items[0].id,
        order_id=order.id,
        patient_id=patient_id,
        loinc_code="2345-7",
        value_type=ValueType.NUMERIC,
        value="130",
        value_numeric=Decimal("130"),
        unit="mg/dL",
        unit_code="mg/dL",
        reference_low=Decimal("70"),
        reference_high=Decimal("99"),
        abnormal_flag=AbnormalFlag.HIGH,
        status=result_status,
        observed_at=now - timedelta(hours=2),
    )
    session.add(result)
    await session.flush()
    return order, result
