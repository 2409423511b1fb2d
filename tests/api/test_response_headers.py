"""Answers carrying patient data are not cached or sniffed; HSTS is sent when the public URL is https."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.settings import Settings
from notifications.settings import NotificationSettings
from tests.builders import http_client
from tests.clinical.builders import signed_in_patient


async def test_api_and_fhir_answers_are_not_stored_or_sniffed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    for path in (f"/api/v1/patients/{patient.id}", f"/fhir/R4/Patient/{patient.id}", "/api/v1/patients/x"):
        response = await client.get(path, headers=headers)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert "strict-transport-security" not in response.headers  # the test app's public URL is http
    # Errors too (a 401 here), and an endpoint's own stricter policy is kept.
    response = await client.get(f"/api/v1/patients/{patient.id}")
    assert response.status_code == 401 and response.headers["cache-control"] == "no-store"
    record = await client.get(f"/api/v1/patients/{patient.id}/record?format=fhir", headers=headers)
    assert record.headers["cache-control"] == "private, no-store"


async def test_hsts_when_the_public_url_is_https(settings: Settings) -> None:
    public = NotificationSettings(_env_file=None, public_url="https://ownat.hospital.example")  # type: ignore[call-arg]
    # Not started: the pages and the 404s it answers need none of its resources.
    async with http_client(create_app(settings, notification_settings=public)) as client:
        for path in ("/", "/api/v1/docs", "/api/v1/nothing-here"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000", path


async def test_the_docs_page_and_its_files_come_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "//" not in page.text.replace("<!doctype html>", "")  # no other origin named anywhere
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        asset = await client.get(f"/api/v1/docs/swagger-ui/{name}")
        assert asset.status_code == 200 and len(asset.content) > 10_000
    assert (await client.get("/api/v1/docs/swagger-ui/index.html")).status_code == 404
