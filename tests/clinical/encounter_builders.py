"""Builders for consultation and records tests: patients, clinicians with practitioner records,
encounters opened through the API, and small valid files of each accepted type."""

from __future__ import annotations

import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Practitioner
from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.identity.models import User
from core.identity.tokens import issue_access_token
from core.principal import SYSTEM, Role
from core.sessions import transaction
from core.settings import Settings
from tests.builders import bearer, unique_email

API = "/api/v1"
# Not an Argon2 hash: no password can ever match it, so these accounts cannot sign in.
UNUSABLE_PASSWORD_HASH = "!unusable"


@dataclass(frozen=True)
class Staff:
    user: User
    headers: dict[str, str]
    practitioner_id: uuid.UUID | None


@dataclass(frozen=True)
class PatientAccount:
    user: User
    headers: dict[str, str]

    @property
    def patient_id(self) -> uuid.UUID:
        assert self.user.patient_id is not None
        return self.user.patient_id


@dataclass(frozen=True)
class People:
    """Creates accounts straight in the database with a real access token, skipping the password
    hashing and login round trip that the identity tests cover (it would dominate these tests)."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings

    async def _account(self, role: Role) -> tuple[User, dict[str, str]]:
        user = User(
            email=unique_email(role.value),
            full_name=f"Test {role.value.title()}",
            role=role,
            patient_id=uuid.uuid4() if role is Role.PATIENT else None,
            password_hash=UNUSABLE_PASSWORD_HASH,
        )
        async with transaction(self.sessions) as session:
            session.add(user)
        token, _ = issue_access_token(user.as_principal(), settings=self.settings)
        return user, bearer(token)

    async def staff(self, role: Role = Role.CLINICIAN, *, with_practitioner: bool = True) -> Staff:
        """A staff member; clinicians and nurses get a linked practitioner record by default."""
        user, headers = await self._account(role)
        practitioner_id = None
        if with_practitioner and role in (Role.CLINICIAN, Role.NURSE):
            row = Practitioner(user_id=user.id, given_name="Sam", family_name=f"Test-{secrets.token_hex(3)}")
            async with transaction(self.sessions) as session:
                session.add(row)
            practitioner_id = row.id
        return Staff(user=user, headers=headers, practitioner_id=practitioner_id)

    async def patient(self) -> PatientAccount:
        """A patient account that owns a patient record, as after online registration."""
        user, headers = await self._account(Role.PATIENT)
        assert user.patient_id is not None
        async with transaction(self.sessions) as session:
            await patients.register_online_patient(
                session=session,
                actor=SYSTEM,
                user_id=user.id,
                patient_id=user.patient_id,
                full_name=user.full_name,
                email=user.email,
            )
        return PatientAccount(user=user, headers=headers)

    async def patient_record(self) -> uuid.UUID:
        """A patient registered by staff (no account); returns its id."""
        data = PatientCreate(
            given_name="Pat", family_name=f"Test-{secrets.token_hex(3)}", birth_date=date(1975, 3, 9)
        )
        async with transaction(self.sessions) as session:
            return (await patients.create_patient(session=session, actor=SYSTEM, data=data)).id

    async def headers_of(self, role: Role) -> dict[str, str]:
        """Headers of a new account of `role` (a patient with a record of their own)."""
        if role is Role.PATIENT:
            return (await self.patient()).headers
        return (await self.staff(role)).headers


async def walk_in(
    client: httpx.AsyncClient, clinician: Staff, patient_id: uuid.UUID, **body: object
) -> dict[str, Any]:
    """An encounter in progress opened by `clinician` for a walk-in patient (fails the test otherwise)."""
    response = await client.post(
        f"{API}/encounters", json={"patient_id": str(patient_id), **body}, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


# The smallest well-formed files of each accepted type, built rather than stored as binary fixtures.
def pdf_bytes(text: str = "Ownat test report") -> bytes:
    """A one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


def png_bytes() -> bytes:
    """A 1x1 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """The start of a JFIF file: enough for type detection (the server does not decode images)."""
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    )


def exe_bytes() -> bytes:
    """The start of a Windows executable (an "MZ" DOS header)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112
