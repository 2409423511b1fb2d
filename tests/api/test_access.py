"""`require_roles` and `patient_in_scope`, through a small router mounted on an app of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import API_PREFIX, create_app
from api.deps import CurrentPrincipal, PatientInScope, get_current_principal, require_roles
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.builders import http_client, signed_in


def probe_router() -> APIRouter:
    router = APIRouter(prefix="/_test", dependencies=[Depends(get_current_principal)])

    @router.get("/patients/{patient_id}")
    async def read_patient(patient_id: PatientInScope) -> dict[str, str]:
        return {"patient_id": str(patient_id)}

    @router.get("/clinical", dependencies=[Depends(require_roles(Role.CLINICIAN, Role.NURSE))])
    async def clinical_only(principal: CurrentPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    return router


@pytest.fixture(scope="module")
async def probe_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.include_router(probe_router(), prefix=API_PREFIX)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def probe(probe_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(probe_app) as client:
        yield client


@pytest.fixture
def sessions(probe_app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return probe_app.state.resources.sessions


async def test_patient_reaches_their_own_record(
    probe: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in(probe, sessions, Role.PATIENT)
    response = await probe.get(f"/api/v1/_test/patients/{patient.patient_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"patient_id": str(patient.patient_id)}


async def test_patient_is_refused_another_patients_record_and_it_is_audited(
    probe: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in(probe, sessions, Role.PATIENT)
    other, _ = await signed_in(probe, sessions, Role.PATIENT)
    response = await probe.get(f"/api/v1/_test/patients/{other.patient_id}", headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    async with sessions() as session:
        outcomes = list(
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.actor_id == patient.id,
                    AuditEvent.resource_type == "patient",
                    AuditEvent.resource_id == str(other.patient_id),
                )
            )
        )
    assert outcomes == ["denied"]


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.ADMIN])
async def test_staff_reach_any_patient(
    probe: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    _, headers = await signed_in(probe, sessions, role)
    response = await probe.get(f"/api/v1/_test/patients/{uuid.uuid4()}", headers=headers)
    assert response.status_code == 200


async def test_no_token_no_patient(probe: httpx.AsyncClient) -> None:
    response = await probe.get(f"/api/v1/_test/patients/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.CLINICIAN, 200), (Role.NURSE, 200), (Role.ADMIN, 403), (Role.PATIENT, 403)]
)
async def test_require_roles_admits_only_the_listed_roles(
    probe: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role, status: int
) -> None:
    _, headers = await signed_in(probe, sessions, role)
    response = await probe.get("/api/v1/_test/clinical", headers=headers)
    assert response.status_code == status
    if status == 403:
        assert "clinician, nurse" in response.json()["detail"]


async def test_require_roles_needs_a_token(probe: httpx.AsyncClient) -> None:
    assert (await probe.get("/api/v1/_test/clinical")).status_code == 401
