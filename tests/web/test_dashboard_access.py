"""Who may open the ward feed: the server decides, the page says so; pages carry their headers."""

from __future__ import annotations

import json
import secrets
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.identity.tokens import issue_access_token
from core.principal import Principal, Role
from core.settings import Settings
from tests.clinical.builders import audit_trail, create_patient_user
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import sign_in, ward_world


@pytest.mark.parametrize("path", ["/staff/dashboard/", "/staff/patient/"])
async def test_dashboard_pages_carry_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text


async def test_dashboard_path_gains_its_slash(client: httpx.AsyncClient) -> None:
    response = await client.get("/staff/dashboard")
    assert response.status_code == 308 and response.headers["location"] == "/staff/dashboard/"


async def test_a_patient_cannot_open_the_ward_feed_and_the_page_says_so(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    user, _, password = await create_patient_user(sessions)
    await sign_in(page, live_server, user.email, password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    # The ward list is refused by the REST API, the feed by the hub: both say why, no tile is drawn.
    await expect(page.locator("#live-status")).to_have_text("Live feed refused: Ward feeds are for staff.")
    await expect(page.get_by_role("alert").first).to_be_visible()
    await expect(page.locator("#messages")).to_contain_text("You cannot watch this ward")
    await expect(page.locator(".bed-tile")).to_have_count(0)
    assert world.patient.family_name not in await page.content()
    # The refused attempt is in the audit log, and nothing of the ward's patient was read.
    async with sessions() as session:
        outcomes = (
            await session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.resource_type == "live-feed", AuditEvent.actor_id == user.id
                )
            )
        ).all()
    assert "denied" in outcomes and "success" not in outcomes
    assert ("read", "live-feed", "success") not in await audit_trail(sessions, patient_id=world.patient.id)


async def test_a_nurse_of_another_organisation_is_refused_and_sent_to_sign_in(
    page: Page, live_server: LiveServer, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A token from another hospital's deployment (its own signing key) opens nothing here."""
    world = await ward_world(sessions, beds=1)
    elsewhere = settings.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(48))})
    stranger = Principal(user_id=uuid.uuid4(), role=Role.NURSE, token_id=uuid.uuid4().hex)
    foreign, _ = issue_access_token(stranger, settings=elsewhere)
    session = {
        "accessToken": foreign,
        "refreshToken": "not-a-token-of-this-hospital",
        "expiresAt": 4_102_444_800_000,
        "user": {"full_name": "Stranger", "role": "nurse"},
    }
    await page.goto(live_server.url + "/")
    await page.evaluate("s => sessionStorage.setItem('ownat.session', s)", json.dumps(session))
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('ownat.session')") is None
    assert ("read", "live-feed", "success") not in await audit_trail(sessions, patient_id=world.patient.id)


async def test_a_bookmark_to_a_ward_that_is_gone_says_so_and_offers_the_wards(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={uuid.uuid4()}")
    await expect(page.locator("#messages")).to_contain_text("No such ward")
    picker = page.get_by_role("combobox", name="Ward")
    # The picker asks for a ward in words (not a blank box), and the nurse's ward is there to pick.
    await expect(picker.locator("option:checked")).to_have_text("Choose a ward…")
    await picker.select_option(label=f"{world.ward.name} ({world.ward.code})")
    await expect(page.locator(".bed-tile")).to_have_count(1)
