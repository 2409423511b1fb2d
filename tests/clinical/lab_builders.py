"""Builders for laboratory tests: clinicians who can order, lab orders, and HL7 v2 ORU^R01 messages."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.lab import orders
from clinical.lab.models import Hl7Message, LabOrder, LabResult
from clinical.lab.schemas import LabOrderCreate
from clinical.organisation.models import Practitioner
from clinical.patients.models import Patient
from core.audit.models import AuditEvent
from core.principal import Principal, Role
from core.sessions import transaction
from tests.builders import http_client, login, signed_in
from tests.clinical.builders import create_practitioner

API = "/api/v1"
HL7_MEDIA_TYPE = "x-application/hl7-v2+er7"
GLUCOSE, POTASSIUM, SODIUM, HEMOGLOBIN = "2345-7", "2823-3", "2951-2", "718-7"


@dataclass(frozen=True)
class Clinician:
    practitioner: Practitioner
    principal: Principal
    headers: dict[str, str]


async def staff_headers(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], role: Role
) -> dict[str, str]:
    """Headers of a new signed-in user of `role`, for module-scoped fixtures (no function-scoped client)."""
    async with http_client(app) as client:
        _, headers = await signed_in(client, sessions, role)
    return headers


async def clinician(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> Clinician:
    """A signed-in clinician with a linked practitioner record: someone who can order tests."""
    practitioner, user, password = await create_practitioner(sessions)
    return Clinician(practitioner, user.as_principal(), await login(client, user.email, password))


async def lab_order(
    sessions: async_sessionmaker[AsyncSession],
    *,
    patient_id: uuid.UUID,
    by: Clinician,
    tests: tuple[str, ...] = (GLUCOSE, POTASSIUM),
) -> LabOrder:
    """An order placed through the service in a transaction of its own."""
    async with transaction(sessions) as session:
        return await orders.create_order(
            session=session, actor=by.principal, new=LabOrderCreate(patient_id=patient_id, tests=list(tests))
        )


@dataclass(frozen=True)
class Obx:
    """One OBX of a built message; fields are written as HL7 text."""

    loinc: str
    value: str
    value_type: str = "NM"
    unit: str = "mg/dL"
    reference_range: str = "70-99"
    flag: str = ""
    status: str = "F"
    observed_at: str = "20250301083000+0000"
    coding_system: str = "LN"


@dataclass
class Oru:
    """An ORU^R01 to send; `text()` renders it with CR segment separators."""

    placer: str
    mrn: str
    observations: list[Obx] = field(default_factory=list)
    control_id: str = field(default_factory=lambda: f"CTL{secrets.token_hex(6).upper()}")
    sending_application: str = "LABSYS"
    sending_facility: str = "CITYLAB"
    message_type: str = "ORU^R01^ORU_R01"
    version: str = "2.5.1"
    filler: str = "F12345"
    family: str = "DOE"
    given: str = "JANE"
    sent_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000"))

    def text(self, *, separator: str = "\r") -> str:
        segments = [
            f"MSH|^~\\&|{self.sending_application}|{self.sending_facility}|OWNAT|HOSPITAL|{self.sent_at}||"
            f"{self.message_type}|{self.control_id}|P|{self.version}",
            f"PID|1||{self.mrn}^^^HOSPITAL^MR||{self.family}^{self.given}||19800517|F",
            f"ORC|RE|{self.placer}|{self.filler}",
            f"OBR|1|{self.placer}|{self.filler}|24323-8^Comprehensive metabolic panel^LN|||20250301080000+0000",
        ]
        for n, obx in enumerate(self.observations, start=1):
            segments.append(
                f"OBX|{n}|{obx.value_type}|{obx.loinc}^Test {obx.loinc}^{obx.coding_system}||{obx.value}|"
                f"{obx.unit}^{obx.unit}^UCUM|{obx.reference_range}|{obx.flag}|||{obx.status}|||{obx.observed_at}"
            )
        return separator.join(segments) + separator


def oru_for(order: LabOrder, patient: Patient, *observations: Obx, **overrides: str) -> Oru:
    """A message reporting on `order` for `patient` (its placer number, their MRN)."""
    return Oru(
        placer=order.placer_order_number, mrn=patient.mrn, observations=list(observations), **overrides
    )


async def post_oru(
    client: httpx.AsyncClient, headers: dict[str, str], message: str, *, media_type: str = HL7_MEDIA_TYPE
) -> httpx.Response:
    """Posts a raw message to the HL7 endpoint."""
    return await client.post(
        f"{API}/hl7/oru", content=message.encode(), headers={**headers, "Content-Type": media_type}
    )


def ack_segments(ack: str) -> dict[str, list[str]]:
    """The ACK's segments by id, each split into fields (index 0 is the segment id)."""
    segments = [segment.split("|") for segment in ack.strip("\r").split("\r")]
    return {fields[0]: fields for fields in segments}


async def messages_with_control_id(
    sessions: async_sessionmaker[AsyncSession], control_id: str
) -> list[Hl7Message]:
    """Every stored message with this control id, oldest first."""
    async with sessions() as session:
        query = select(Hl7Message).where(Hl7Message.control_id == control_id).order_by(Hl7Message.received_at)
        return list(await session.scalars(query))


async def messages_with_raw(sessions: async_sessionmaker[AsyncSession], raw: str) -> list[Hl7Message]:
    """Every stored message whose raw text is exactly `raw`."""
    async with sessions() as session:
        return list(await session.scalars(select(Hl7Message).where(Hl7Message.raw == raw)))


async def results_of(sessions: async_sessionmaker[AsyncSession], order_id: uuid.UUID) -> list[LabResult]:
    """Every result row of an order, oldest first."""
    async with sessions() as session:
        query = select(LabResult).where(LabResult.order_id == order_id).order_by(LabResult.created_at)
        return list(await session.scalars(query))


async def audit_entries(
    sessions: async_sessionmaker[AsyncSession], *, resource_type: str, resource_id: object
) -> list[AuditEvent]:
    """Audit entries about one resource, oldest first."""
    async with sessions() as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.resource_type == resource_type, AuditEvent.resource_id == str(resource_id))
            .order_by(AuditEvent.seq)
        )
        return list(await session.scalars(query))
