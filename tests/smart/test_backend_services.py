"""SMART Backend Services: client credentials with a signed JWT assertion (RS384, ES384), keys
registered inline or at a JWKS URL, read-only system/ scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit.models import AuditEvent
from tests.fhir import builders
from tests.smart.smart_support import BackendKey, admin_headers, backend_token, bearer, register_app


@pytest.mark.parametrize("algorithm", ["ES384", "RS384"])
async def test_a_backend_service_reads_with_system_scopes(client, sessions, algorithm) -> None:
    admin = await admin_headers(client, sessions)
    key = BackendKey.new(algorithm)
    app = await register_app(client, admin, scopes="system/*.rs", client_type="backend", jwks=key.jwks())
    patient_id = await builders.patient_record(sessions)
    response = await backend_token(client, app["client_id"], key, "system/Patient.rs system/Observation.rs")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/Patient.rs system/Observation.rs"
    headers = bearer(response.json()["access_token"])
    assert (await client.get(f"/fhir/R4/Patient/{patient_id}", headers=headers)).status_code == 200
    created = await client.post(
        "/fhir/R4/AllergyIntolerance",
        json={"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{patient_id}"}},
        headers={**headers, "Content-Type": "application/fhir+json"},
    )
    assert created.status_code == 403
    assert (await client.get("/fhir/R4/Condition", headers=headers)).status_code == 403


async def test_backend_assertions_are_checked(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    key = BackendKey.new("ES384")
    app = await register_app(
        client, admin, scopes="system/Patient.rs", client_type="backend", jwks=key.jwks()
    )
    assertion = key.assertion(app["client_id"])
    assert (
        await backend_token(client, app["client_id"], key, "system/Patient.rs", assertion=assertion)
    ).status_code == 200
    replay = await backend_token(client, app["client_id"], key, "system/Patient.rs", assertion=assertion)
    assert replay.status_code == 401 and "replayed" in replay.json()["error_description"]
    stranger = BackendKey.new("ES384")
    stranger.kid = key.kid
    forged = await backend_token(client, app["client_id"], stranger, "system/Patient.rs")
    assert forged.status_code == 401
    wrong_audience = key.assertion(app["client_id"], audience="https://elsewhere.example/token")
    assert (
        await backend_token(client, app["client_id"], key, "system/Patient.rs", assertion=wrong_audience)
    ).status_code == 401
    too_long = key.assertion(app["client_id"], lifetime_s=3600)
    assert (
        await backend_token(client, app["client_id"], key, "system/Patient.rs", assertion=too_long)
    ).status_code == 401
    beyond = await backend_token(client, app["client_id"], key, "system/Observation.rs")
    assert beyond.json()["error"] == "invalid_scope"


async def test_a_backend_service_may_publish_its_keys_at_a_jwks_url(client, sessions) -> None:
    from fastapi import FastAPI

    from tests.web.conftest import serve

    key = BackendKey.new("RS384")
    keys_site = FastAPI()
    keys_site.get("/jwks.json")(lambda: key.jwks())
    async with serve(keys_site) as site:
        admin = await admin_headers(client, sessions)
        app = await register_app(
            client, admin, scopes="system/Patient.rs", client_type="backend", jwks_url=f"{site.url}/jwks.json"
        )
        patient_id = await builders.patient_record(sessions)
        response = await backend_token(client, app["client_id"], key, "system/Patient.rs")
        assert response.status_code == 200, response.text
        headers = bearer(response.json()["access_token"])
        assert (await client.get(f"/fhir/R4/Patient/{patient_id}", headers=headers)).status_code == 200
    async with sessions() as session:
        served = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "fhir.read", AuditEvent.patient_id == patient_id)
        )
    assert served is not None and served.detail["client_id"] == app["client_id"]
    assert served.actor_id is not None and str(served.actor_id) == app["id"]
