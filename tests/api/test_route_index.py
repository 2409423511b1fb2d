"""The route index skips routers that cannot match a path, and never changes which route answers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from api.route_index import install_route_index


def _app() -> tuple[FastAPI, APIRouter]:
    app = FastAPI()
    patients = APIRouter(prefix="/patients")

    @patients.get("/{patient_id}")
    async def read_patient(patient_id: str) -> dict[str, str]:
        return {"route": "patient", "id": patient_id}

    @patients.get("/{patient_id}/notes")
    async def read_notes(patient_id: str) -> dict[str, str]:
        return {"route": "notes", "id": patient_id}

    fhir = APIRouter(prefix="/fhir/R4")

    @fhir.get("/{resource_type}/{resource_id}")
    async def read_resource(resource_type: str, resource_id: str) -> dict[str, str]:
        return {"route": "fhir", "type": resource_type}

    grouped = APIRouter()
    grouped.include_router(patients)
    app.include_router(grouped, prefix="/api/v1")
    app.include_router(fhir)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"route": "health"}

    return app, grouped


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.request(method, path)


@pytest.mark.parametrize(
    ("path", "status", "route"),
    [
        ("/api/v1/patients/p1", 200, "patient"),
        ("/api/v1/patients/p1/notes", 200, "notes"),
        ("/fhir/R4/Patient/p1", 200, "fhir"),
        ("/healthz", 200, "health"),
        ("/api/v1/nothing", 404, None),
        ("/fhir/R5/Patient/p1", 404, None),
    ],
)
async def test_the_same_route_answers_with_the_index(path: str, status: int, route: str | None) -> None:
    app, _ = _app()
    install_route_index(app)
    response = await _get(app, path)
    assert response.status_code == status
    if route is not None:
        assert response.json()["route"] == route


async def test_a_wrong_method_still_gets_405() -> None:
    app, _ = _app()
    install_route_index(app)
    response = await _get(app, "/api/v1/patients/p1", method="DELETE")
    assert response.status_code == 405


async def test_a_route_added_after_the_index_is_found() -> None:
    app, grouped = _app()
    install_route_index(app)
    reports = APIRouter(prefix="/reports")  # outside every prefix the index knows

    @reports.get("/{name}")
    async def report(name: str) -> dict[str, str]:
        return {"route": "report"}

    grouped.include_router(reports)
    response = await _get(app, "/api/v1/reports/week")
    assert response.status_code == 200
    assert response.json()["route"] == "report"
