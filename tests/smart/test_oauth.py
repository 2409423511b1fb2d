"""SMART's OAuth 2 server: discovery, the authorization code flow with PKCE, refresh, revocation,
introspection, id_tokens and backend services' client credentials."""

from __future__ import annotations

import secrets
import uuid

import jwt
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from tests.builders import http_client, signed_in
from tests.fhir import builders
from tests.smart.smart_support import (
    FHIR_BASE,
    REDIRECT_URI,
    BackendKey,
    admin_headers,
    app_token,
    authorize,
    authorize_url,
    backend_token,
    bearer,
    exchange,
    pkce_pair,
    query_of,
    register_app,
)

PATIENT_SCOPES = "launch/patient patient/Observation.rs patient/Patient.r openid fhirUser offline_access"


async def test_discovery_declares_what_is_supported(client) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/R4/.well-known/smart-configuration"):
        body = (await client.get(path)).json()
        assert body["code_challenge_methods_supported"] == ["S256"]
        assert body["token_endpoint"] == "http://ownat.test/oauth/token"
        assert set(body["grant_types_supported"]) == {
            "authorization_code",
            "refresh_token",
            "client_credentials",
        }
        assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
        assert "launch-ehr" in body["capabilities"] and "permission-v2" in body["capabilities"]
    security = (await client.get("/fhir/R4/metadata")).json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["token"] == "http://ownat.test/oauth/token"


async def test_a_staff_standalone_launch_reads_only_the_chosen_patients_observations(
    client, sessions
) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes=PATIENT_SCOPES)
    chosen = await builders.patient_record(sessions)
    other = await builders.patient_record(sessions)
    await builders.device_readings(sessions, chosen)
    await builders.device_readings(sessions, other)
    _, clinician = await signed_in(client, sessions, Role.CLINICIAN)
    tokens = await app_token(client, clinician, app["client_id"], PATIENT_SCOPES, patient_id=chosen)
    assert tokens["patient"] == str(chosen) and tokens["token_type"] == "Bearer"
    assert "refresh_token" in tokens and "id_token" in tokens
    app_headers = bearer(tokens["access_token"])
    found = (
        await client.get("/fhir/R4/Observation", params={"category": "vital-signs"}, headers=app_headers)
    ).json()
    subjects = {e["resource"]["subject"]["reference"] for e in found["entry"]}
    assert subjects == {f"Patient/{chosen}"}
    assert (await client.get(f"/fhir/R4/Patient/{chosen}", headers=app_headers)).status_code == 200
    assert (await client.get(f"/fhir/R4/Patient/{other}", headers=app_headers)).status_code == 403
    # patient/Patient.r grants no search; the REST API refuses an app's token outright.
    assert (await client.get("/fhir/R4/Patient", headers=app_headers)).status_code == 403
    assert (await client.get(f"/api/v1/patients/{chosen}", headers=app_headers)).status_code == 401


async def test_id_token_names_the_user_and_verifies_with_the_published_key(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes=PATIENT_SCOPES)
    user, patient = await builders.patient_user(client, sessions)
    tokens = await app_token(client, patient, app["client_id"], "patient/Observation.rs openid fhirUser")
    assert tokens["patient"] == str(user.patient_id)  # a patient shares only their own record
    keys = jwt.PyJWKSet.from_dict((await client.get("/oauth/jwks")).json())
    claims = jwt.decode(tokens["id_token"], keys.keys[0].key, algorithms=["RS256"], audience=app["client_id"])
    assert claims["fhirUser"] == f"{FHIR_BASE}/Patient/{user.patient_id}"
    assert claims["iss"] == FHIR_BASE and claims["sub"] == str(user.id)


async def test_pkce_failures_are_refused(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    verifier, _ = pkce_pair()
    plain = await authorize_url(
        client,
        app["client_id"],
        "user/Patient.rs",
        challenge=verifier,
        state="s1",
        code_challenge_method="plain",
    )
    assert plain.status_code == 302
    assert query_of(plain.headers["location"])["error"] == "invalid_request"
    missing = await authorize_url(client, app["client_id"], "user/Patient.rs", challenge=None, state="s2")  # type: ignore[arg-type]
    assert query_of(missing.headers["location"])["error"] == "invalid_request"
    authorized = await authorize(client, nurse, app["client_id"], "user/Patient.rs")
    wrong = await exchange(client, app["client_id"], authorized, code_verifier=pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # A failed attempt spends nothing; a right one works once.
    assert (await exchange(client, app["client_id"], authorized)).status_code == 200
    again = await exchange(client, app["client_id"], authorized)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    async with sessions() as session:
        refusals = list(
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.action == "smart.token", AuditEvent.outcome == "denied"
                )
            )
        )
    assert refusals


async def test_unregistered_redirect_uri_is_never_followed(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, challenge = pkce_pair()
    response = await authorize_url(
        client,
        app["client_id"],
        "user/Patient.rs",
        challenge=challenge,
        state="x",
        redirect_uri="https://evil.example/cb",
    )
    assert response.status_code == 400 and "redirect_uri" in response.text


async def test_the_user_may_deny(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    _, challenge = pkce_pair()
    response = await authorize_url(
        client, app["client_id"], "user/Patient.rs", challenge=challenge, state="z"
    )
    request_id = query_of(response.headers["location"])["request"]
    shown = (await client.get(f"/api/v1/smart/authorizations/{request_id}", headers=nurse)).json()
    assert shown["app_name"] == app["name"]
    assert shown["scopes"] == [
        {"scope": "user/Patient.rs", "words": "Read, search Patient records that you can see"}
    ]
    answer = await client.post(f"/api/v1/smart/authorizations/{request_id}/deny", headers=nurse)
    assert query_of(answer.json()["redirect_to"]) == {
        "error": "access_denied",
        "error_description": "The user declined.",
        "state": "z",
    }


async def test_refresh_rotates_and_revocation_ends_the_grant(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(
        client, admin, scopes="user/Patient.rs offline_access", client_type="confidential"
    )
    secret = app["client_secret"]
    patient_id = await builders.patient_record(sessions)
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    authorized = await authorize(client, nurse, app["client_id"], "user/Patient.rs offline_access")
    assert (await exchange(client, app["client_id"], authorized)).status_code == 401  # no secret
    first = (await exchange(client, app["client_id"], authorized, client_secret=secret)).json()
    form = {"client_id": app["client_id"], "client_secret": secret}
    second = await client.post(
        "/oauth/token", data={**form, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200, second.text
    assert "refresh_token" in second.json() and second.json()["refresh_token"] != first["refresh_token"]
    current = second.json()
    looked = (await client.post("/oauth/introspect", data={**form, "token": current["access_token"]})).json()
    assert looked["active"] and looked["scope"] == "user/Patient.rs offline_access"
    assert looked["client_id"] == app["client_id"]
    assert (
        await client.get(f"/fhir/R4/Patient/{patient_id}", headers=bearer(current["access_token"]))
    ).status_code == 200
    # client_secret_basic this time, as the README's curl example does.
    revoked = await client.post(
        "/oauth/revoke", data={"token": current["refresh_token"]}, auth=(app["client_id"], secret)
    )
    assert revoked.status_code == 200
    for token in (current["access_token"], current["refresh_token"]):
        assert (await client.post("/oauth/introspect", data={**form, "token": token})).json() == {
            "active": False
        }
    assert (
        await client.get(f"/fhir/R4/Patient/{patient_id}", headers=bearer(current["access_token"]))
    ).status_code == 401


async def test_a_reused_refresh_token_ends_the_grant(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs offline_access")
    patient_id = await builders.patient_record(sessions)
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    first = await app_token(client, nurse, app["client_id"], "user/Patient.rs offline_access")
    form = {"client_id": app["client_id"], "grant_type": "refresh_token"}
    second = (
        await client.post("/oauth/token", data={**form, "refresh_token": first["refresh_token"]})
    ).json()
    reused = await client.post("/oauth/token", data={**form, "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400 and "already used" in reused.json()["error_description"]
    # Whoever holds the newer tokens is cut off too: the copy cannot be told from the original.
    assert (
        await client.post("/oauth/token", data={**form, "refresh_token": second["refresh_token"]})
    ).status_code == 400
    assert (
        await client.get(f"/fhir/R4/Patient/{patient_id}", headers=bearer(second["access_token"]))
    ).status_code == 401


async def test_an_access_token_alone_can_be_revoked_and_admins_introspect(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    token = (await app_token(client, nurse, app["client_id"], "user/Patient.rs"))["access_token"]
    looked = await client.post("/oauth/introspect", data={"token": token}, headers=admin)
    assert looked.json()["active"] is True
    assert (await client.post("/oauth/introspect", data={"token": token}, headers=nurse)).status_code == 401
    await client.post("/oauth/revoke", data={"client_id": app["client_id"], "token": token})
    assert (await client.post("/oauth/introspect", data={"token": token}, headers=admin)).json() == {
        "active": False
    }


async def test_only_admins_register_apps_and_registrations_are_checked(client, sessions) -> None:
    _, clinician = await signed_in(client, sessions, Role.CLINICIAN)
    body = {"name": "X", "client_type": "public", "scopes": "user/*.rs", "redirect_uris": [REDIRECT_URI]}
    assert (await client.post("/api/v1/smart/apps", json=body, headers=clinician)).status_code == 403
    admin = await admin_headers(client, sessions)
    for bad in (
        {**body, "scopes": "user/Observation.sr"},
        {**body, "scopes": "patient/Observation.rs?category=vital-signs"},
        {**body, "redirect_uris": ["http://example.org/cb"]},
        {**body, "client_type": "backend", "scopes": "system/*.rs"},
        {**body, "scopes": "system/*.rs"},
    ):
        assert (await client.post("/api/v1/smart/apps", json=bad, headers=admin)).status_code == 422, bad


async def test_an_ehr_launch_carries_the_charts_patient(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    scope = "launch patient/*.rs"
    app = await register_app(client, admin, scopes=scope, launch_url="http://127.0.0.1:9/launch")
    patient_id = await builders.patient_record(sessions)
    _, clinician = await signed_in(client, sessions, Role.CLINICIAN)
    listed = (await client.get("/api/v1/smart/launchable-apps", headers=clinician)).json()
    assert app["client_id"] in {a["client_id"] for a in listed}
    opened = await client.post(
        "/api/v1/smart/launches",
        json={"client_id": app["client_id"], "patient_id": str(patient_id)},
        headers=clinician,
    )
    assert opened.status_code == 200, opened.text
    launch = query_of(opened.json()["url"])
    assert opened.json()["url"].startswith("http://127.0.0.1:9/launch?") and launch["iss"] == FHIR_BASE
    _, challenge = pkce_pair()
    response = await authorize_url(
        client, app["client_id"], scope, challenge=challenge, state="e", launch=launch["launch"]
    )
    request_id = query_of(response.headers["location"])["request"]
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    assert (await client.get(f"/api/v1/smart/authorizations/{request_id}", headers=nurse)).status_code == 403
    shown = (await client.get(f"/api/v1/smart/authorizations/{request_id}", headers=clinician)).json()
    assert shown["patient_id"] == str(patient_id) and shown["patient_picker"] is False
    authorized = await authorize(client, clinician, app["client_id"], scope, launch=launch["launch"])
    tokens = (await exchange(client, app["client_id"], authorized)).json()
    assert tokens["patient"] == str(patient_id) and tokens["scope"] == scope
    other = await builders.patient_record(sessions)
    assert (
        await client.get(f"/fhir/R4/Patient/{other}", headers=bearer(tokens["access_token"]))
    ).status_code == 403
    forged = await authorize_url(
        client, app["client_id"], scope, challenge=challenge, state="f", launch="not-a-launch"
    )
    assert query_of(forged.headers["location"])["error"] == "invalid_request"


async def test_oauth_endpoints_are_rate_limited(app_with, sessions) -> None:
    client_id = f"nobody-{secrets.token_hex(4)}"
    async with app_with(smart_requests_per_client=2) as limited, http_client(limited) as http:
        answers = [
            await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[2].json()["error"] == "slow_down" and int(answers[2].headers["Retry-After"]) >= 1


async def test_suspending_an_app_ends_its_tokens_at_once(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs offline_access")
    patient_id = await builders.patient_record(sessions)
    _, nurse = await signed_in(client, sessions, Role.NURSE)
    tokens = await app_token(client, nurse, app["client_id"], "user/Patient.rs offline_access")
    key = BackendKey.new("ES384")
    service = await register_app(
        client, admin, scopes="system/Patient.rs", client_type="backend", jwks=key.jwks()
    )
    service_token = (await backend_token(client, service["client_id"], key, "system/Patient.rs")).json()[
        "access_token"
    ]
    for registered in (app, service):
        suspended = await client.patch(
            f"/api/v1/smart/apps/{registered['id']}", json={"is_active": False}, headers=admin
        )
        assert suspended.status_code == 200 and suspended.json()["is_active"] is False
    for token in (tokens["access_token"], service_token):
        assert (await client.get(f"/fhir/R4/Patient/{patient_id}", headers=bearer(token))).status_code == 401
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app["client_id"],
        },
    )
    assert refreshed.status_code == 401  # the suspended client is not recognised any more


async def test_an_apps_fhir_requests_are_rate_limited(app_with, sessions) -> None:
    async with app_with(smart_fhir_requests_per_app=2) as limited, http_client(limited) as http:
        admin = await admin_headers(http, sessions)
        app = await register_app(http, admin, scopes="user/Patient.rs")
        patient_id = await builders.patient_record(sessions)
        _, nurse = await signed_in(http, sessions, Role.NURSE)
        token = (await app_token(http, nurse, app["client_id"], "user/Patient.rs"))["access_token"]
        answers = [await http.get(f"/fhir/R4/Patient/{patient_id}", headers=bearer(token)) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert (
            answers[2].json()["resourceType"] == "OperationOutcome"
            and int(answers[2].headers["Retry-After"]) >= 1
        )
        # The user's own token is not the app's budget.
        assert (await http.get(f"/fhir/R4/Patient/{patient_id}", headers=nurse)).status_code == 200


async def test_browser_apps_on_other_origins_reach_fhir_and_the_token_endpoint(client, sessions) -> None:
    origin = {"Origin": "https://app.example.org"}
    preflight = await client.options(
        "/fhir/R4/Patient",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    token = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=origin)
    assert token.headers["access-control-allow-origin"] == "*"
    discovery = await client.get("/.well-known/smart-configuration", headers=origin)
    assert discovery.headers["access-control-allow-origin"] == "*"
    # The rest of the platform stays same-origin.
    assert "access-control-allow-origin" not in (await client.get("/api/v1/auth/me", headers=origin)).headers
    assert (await client.get("/fhir/R4/metadata")).json()["rest"][0]["security"]["cors"] is True


async def test_authorize_also_takes_a_form_post(client, sessions) -> None:
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, challenge = pkce_pair()
    response = await client.post(
        "/oauth/authorize",
        data={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "user/Patient.rs",
            "state": "p",
            "aud": FHIR_BASE,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302 and response.headers["location"].startswith("/oauth/consent/?request=")


async def test_expired_authorisation_requests_are_cleared(client, sessions) -> None:
    from datetime import timedelta

    from core.db import utc_now
    from core.identity.smart.models import SmartAuthorization

    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs")
    _, challenge = pkce_pair()
    first = await authorize_url(client, app["client_id"], "user/Patient.rs", challenge=challenge, state="a")
    old_id = query_of(first.headers["location"])["request"]
    async with sessions() as session, session.begin():
        old = await session.get(SmartAuthorization, uuid.UUID(old_id))
        assert old is not None
        old.expires_at = utc_now() - timedelta(hours=2)
    await authorize_url(client, app["client_id"], "user/Patient.rs", challenge=challenge, state="b")
    async with sessions() as session:
        assert await session.get(SmartAuthorization, uuid.UUID(old_id)) is None


async def test_deactivating_a_user_ends_their_apps_access_at_once(client, sessions) -> None:
    """An app's token acts as its user: the user's session generation ends it like their own."""
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="user/Patient.rs offline_access")
    patient_id = await builders.patient_record(sessions)
    nurse_user, nurse = await signed_in(client, sessions, Role.NURSE)
    tokens = await app_token(client, nurse, app["client_id"], "user/Patient.rs offline_access")
    app_headers = bearer(tokens["access_token"])
    assert (await client.get(f"/fhir/R4/Patient/{patient_id}", headers=app_headers)).status_code == 200
    deactivated = await client.patch(
        f"/api/v1/users/{nurse_user.id}", json={"is_active": False}, headers=admin
    )
    assert deactivated.status_code == 200
    refused = await client.get(f"/fhir/R4/Patient/{patient_id}", headers=app_headers)
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"
    introspected = await client.post(
        "/oauth/introspect", data={"token": tokens["access_token"]}, headers=admin
    )
    assert introspected.json()["active"] is False
