"""The dashboard keeps watching: it reconnects when the socket drops and renews its token in time."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Page, WebSocket, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import ws
from core.db import utc_now
from core.resources import Resources
from tests.realtime.alarm_builders import R, store_readings
from tests.realtime.hub_helpers import publish_vitals
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import HEART_RATE, WardWorld, bus_vitals, sign_in, tile, ward_world
from tests.web.socket_renewal import renew_and_check, token_due_soon


async def watch_ward(page: Page, server: LiveServer, world: WardWorld) -> None:
    await sign_in(page, server, world.nurse.email, world.nurse_password)
    await page.goto(f"{server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")


async def test_the_page_reconnects_after_the_hub_goes_away_and_resumes_from_a_snapshot(
    page: Page,
    app: FastAPI,
    live_server: LiveServer,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await ward_world(sessions, beds=1)
    await watch_ward(page, live_server, world)
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=81))
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("81")
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))

    await ws.stop_hub(app)  # every socket is closed; new ones are turned away until it is back
    try:
        await expect(page.locator("#live-status")).to_contain_text("reconnecting in")
        # Stored while the page was away: only the snapshot on reconnecting can bring it.
        await store_readings(sessions, world.patient.id, [R(HEART_RATE, 79, utc_now())])
    finally:
        hub = await ws.start_hub(app)
    await hub.listening.wait()
    await expect(page.locator("#live-status")).to_have_text("● Live")
    assert sockets, "the page opened a new socket"
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("79")
    # Deltas flow again after the snapshot.
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=84))
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("84")


async def test_the_token_is_renewed_before_it_expires_and_the_socket_signs_in_again(
    page: Page, live_server: LiveServer, resources: Resources, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    stored, auths = await token_due_soon(page)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")

    await renew_and_check(page, stored, auths)
    await expect(page.locator("#live-status")).to_have_text("● Live")
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=77))
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("77")
