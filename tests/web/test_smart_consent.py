"""A SMART app's launch in Chromium: authorize, sign in on the consent page, choose the patient,
allow, and the app (a tiny redirect receiver on loopback) gets a code it exchanges for a token
that reads only what its scopes allow."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from playwright.async_api import Page, expect

from core.principal import Role
from core.resources import Resources
from tests.builders import create_user
from tests.clinical import builders as clinical
from tests.fhir import builders
from tests.smart.smart_support import admin_headers, pkce_pair, register_app
from tests.web.conftest import LiveServer, serve
from tests.web.signing_in import LOOPBACK, ready

SCOPE = "launch/patient patient/Observation.rs openid fhirUser"


def redirect_receiver(arrived: asyncio.Queue[dict[str, str]]) -> FastAPI:
    """The app's side of the redirect: remembers what came back and tells the person."""
    receiver = FastAPI()

    @receiver.get("/callback")
    async def callback(request: Request) -> PlainTextResponse:
        await arrived.put(dict(request.query_params))
        return PlainTextResponse(
            "Back in the demo app" if "code" in request.query_params else "The app was refused"
        )

    return receiver


async def _start(
    page: Page, server: LiveServer, client_id: str, redirect_uri: str, challenge: str, state: str
) -> None:
    params = httpx.QueryParams(
        response_type="code",
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=SCOPE,
        state=state,
        aud=f"{server.url}/fhir/R4",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    await page.goto(f"{server.url}/oauth/authorize?{params}")
    await ready(page)


async def test_a_clinician_allows_an_app_for_one_patient(
    page: Page, live_server: LiveServer, client: httpx.AsyncClient, sessions: Any, resources: Resources
) -> None:
    arrived: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    async with serve(redirect_receiver(arrived)) as app_site:
        redirect_uri = f"{app_site.url}/callback"
        admin = await admin_headers(client, sessions)
        app = await register_app(
            client, admin, scopes=SCOPE, redirect_uris=[redirect_uri], name="Vitals Viewer"
        )
        family = builders.token()
        chosen = await builders.patient_record(sessions, given="Ines", family=family)
        other = await builders.patient_record(sessions)
        await builders.device_readings(sessions, chosen)
        await builders.device_readings(sessions, other)
        clinician, password = await create_user(sessions, role=Role.CLINICIAN)
        await resources.rate_limiter.reset(f"login:address:{LOOPBACK}")

        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(8)
        await _start(page, live_server, app["client_id"], redirect_uri, challenge, state)
        await page.get_by_label("Email").fill(clinician.email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()

        await expect(page.get_by_role("heading", name="Allow Vitals Viewer to use Ownat?")).to_be_visible()
        scopes = page.get_by_role("list", name="What the app may do")
        await expect(scopes).to_contain_text("Read, search Observation records of the chosen patient")
        await expect(scopes).to_contain_text("Know who you are")
        await page.get_by_role("button", name="Allow").click()
        await expect(page.get_by_role("alert")).to_contain_text("Choose a patient")
        await page.get_by_label("Find the patient the app opens with").fill(family)
        await page.get_by_role("button", name="Search").click()
        await page.get_by_label(f"Ines {family}", exact=False).check()
        await page.get_by_role("button", name="Allow").click()

        back = await asyncio.wait_for(arrived.get(), timeout=15)
        await expect(page.locator("body")).to_contain_text("Back in the demo app")
        assert back["state"] == state

        async with httpx.AsyncClient(base_url=live_server.url) as app_http:
            answer = await app_http.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": back["code"],
                    "redirect_uri": redirect_uri,
                    "client_id": app["client_id"],
                    "code_verifier": verifier,
                },
            )
            assert answer.status_code == 200, answer.text
            tokens = answer.json()
            assert tokens["patient"] == str(chosen)
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            own = (
                await app_http.get("/fhir/R4/Observation", params={"patient": str(chosen)}, headers=headers)
            ).json()
            assert own["total"] == 2
            theirs = (
                await app_http.get("/fhir/R4/Observation", params={"patient": str(other)}, headers=headers)
            ).json()
            assert theirs["total"] == 0
            assert (await app_http.get(f"/fhir/R4/Patient/{chosen}", headers=headers)).status_code == 403


async def test_a_patient_denies_an_app(
    page: Page, live_server: LiveServer, client: httpx.AsyncClient, sessions: Any, resources: Resources
) -> None:
    arrived: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    async with serve(redirect_receiver(arrived)) as app_site:
        redirect_uri = f"{app_site.url}/callback"
        admin = await admin_headers(client, sessions)
        app = await register_app(
            client, admin, scopes=SCOPE, redirect_uris=[redirect_uri], name="Step Counter"
        )
        patient, _, password = await clinical.create_patient_user(sessions)
        await resources.rate_limiter.reset(f"login:address:{LOOPBACK}")
        _, challenge = pkce_pair()
        await _start(page, live_server, app["client_id"], redirect_uri, challenge, "st")
        await page.get_by_label("Email").fill(patient.email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Allow Step Counter to use Ownat?")).to_be_visible()
        await expect(page.get_by_text("With the record of")).to_be_visible()
        await page.get_by_role("button", name="Deny").click()
        back = await asyncio.wait_for(arrived.get(), timeout=15)
        assert back["error"] == "access_denied" and back["state"] == "st"
        await expect(page.locator("body")).to_contain_text("The app was refused")
