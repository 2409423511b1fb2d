"""A dashboard whose user's sessions end: closed at once by the hub, then carried on as the account
is now (a changed role) or sent to sign in (a deactivated account)."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.principal import Role
from core.resources import Resources
from tests.builders import http_client, signed_in
from tests.realtime.hub_helpers import publish_vitals
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import bus_vitals, sign_in, tile, ward_world


async def change_user(
    app: FastAPI, sessions: async_sessionmaker[AsyncSession], user_id: object, **changes: object
) -> None:
    async with http_client(app) as client:
        _, admin = await signed_in(client, sessions, Role.ADMIN)
        response = await client.patch(f"/api/v1/users/{user_id}", json=changes, headers=admin)
        assert response.status_code == 200, response.text


async def test_a_role_change_closes_the_feed_and_it_carries_on_with_the_new_role(
    page: Page,
    app: FastAPI,
    live_server: LiveServer,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await ward_world(sessions, beds=1)
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")
    async with page.expect_websocket() as reconnected:
        await change_user(app, sessions, world.nurse.id, role="clinician")
    # The hub closed the nurse's socket; the page signed in again on a refreshed token.
    await reconnected.value
    await expect(page.locator("#live-status")).to_have_text("● Live")
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=72))
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("72")


async def test_a_deactivated_users_dashboard_is_sent_to_sign_in(
    page: Page, app: FastAPI, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")

    await change_user(app, sessions, world.nurse.id, is_active=False)

    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('ownat.session')") is None
