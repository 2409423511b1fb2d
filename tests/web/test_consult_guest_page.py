"""The guest page behind invitation links, in headless Chromium with a fake camera: a clinician invites
a guest through the API, the guest opens the link, waits, is admitted on the signalling socket and
receives the clinician's media and chat until the end; a second use of the link is refused."""

from __future__ import annotations

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection
from fastapi import FastAPI
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from tests.builders import bearer, http_client
from tests.realtime.consult_helpers import Peer, consult_client, video_visit
from tests.realtime.hub_helpers import token_for
from tests.web.conftest import TIMEOUT_MS, LiveServer
from tests.web.test_consult_pages import media_browser, media_page, received_frames

# The fixtures of the consult page tests: one Chromium with a fake camera for this module too.
__all__ = ["media_browser", "media_page"]


async def test_the_guest_page_is_a_page_that_may_use_the_camera(client: httpx.AsyncClient) -> None:
    response = await client.get("/consult/guest")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "camera=(self)" in response.headers["permissions-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert '<script type="module" src="/static/consult/guest.js">' in response.text
    assert (await client.get("/static/consult/guest.js")).status_code == 200


async def test_a_guest_opens_the_link_waits_is_admitted_and_sees_the_consultation(
    media_page: Page,
    media_browser: Browser,
    live_server: LiveServer,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    app: FastAPI,
) -> None:
    visit = await video_visit(sessions, passwords=False)
    token = token_for(visit.clinician, settings)
    async with http_client(app) as http:
        created = await http.post(
            f"/api/v1/consults/{visit.room}/invitations",
            json={"display_name": "Interpreter"},
            headers=bearer(token),
        )
    assert created.status_code == 201, created.text
    link = live_server.url + created.json()["link_path"]

    await media_page.goto(link)
    await expect(media_page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(media_page.locator("#invited-as")).to_have_text(
        "You are invited to this video consultation as Interpreter."
    )
    # The token left the address bar (and the history) as soon as the page read it.
    assert media_page.url == live_server.url + "/consult/guest"
    await media_page.get_by_role("button", name="Turn on camera and microphone").click()

    url = live_server.url.replace("http://", "ws://") + "/ws/consult"
    async with consult_client(url, token) as clinician_ws:
        await clinician_ws.join(visit.room)
        await media_page.get_by_role("button", name="Join the consultation").click()
        await expect(media_page.locator("#call-status")).to_contain_text("waiting room")
        waiting = await clinician_ws.expect("waiting")
        while not waiting["waiting"]:
            waiting = await clinician_ws.expect("waiting")
        guest = waiting["waiting"][0]
        assert (guest["role"], guest["display_name"]) == ("guest", "Interpreter")

        clinician = Peer(clinician_ws, pc=RTCPeerConnection(RTCConfiguration(iceServers=[])))
        try:
            await clinician_ws.send(type="admit", participant=guest["id"])
            # The admitted guest offers to the clinician, who answers as the consult page tests do.
            assert (await clinician.answer_offer())["from"] == guest["id"]
            await expect(media_page.locator("#call-status")).to_have_text("You are in the consultation.")
            await received_frames(media_page, 10)
            await expect(media_page.locator("#videos figure")).to_have_count(2)

            await media_page.get_by_label("Message").fill("Hello, I will interpret")
            await media_page.get_by_role("button", name="Send").click()
            line = await clinician_ws.expect("chat", text="Hello, I will interpret")
            assert line["from"] == guest["id"]
            await clinician_ws.send(type="chat", text="Welcome")
            await expect(media_page.locator("#chat")).to_contain_text("Welcome")

            await clinician_ws.send(type="end")
            await expect(media_page.locator("#call-status")).to_have_text("The consultation has ended.")
            await expect(media_page.get_by_role("button", name="Leave")).to_be_hidden()
        finally:
            await clinician.close()

    # The same link a second time, in another browser: refused with the API's own explanation.
    context = await media_browser.new_context(locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        second = await context.new_page()
        await second.goto(link)
        alert = second.get_by_role("alert")
        await expect(alert).to_contain_text("This invitation link cannot be used")
        await expect(alert).to_contain_text("has already been used")
        await expect(second.locator("#device-check")).to_be_hidden()
        assert second.url == live_server.url + "/consult/guest"
    finally:
        await context.close()


async def test_a_reload_keeps_the_spent_link_s_ticket_and_a_bare_page_asks_for_the_link(
    media_page: Page,
    live_server: LiveServer,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    app: FastAPI,
) -> None:
    await media_page.goto(live_server.url + "/consult/guest")
    await expect(media_page.get_by_role("alert")).to_contain_text("Open this page from the invitation link")

    visit = await video_visit(sessions, passwords=False)
    async with http_client(app) as http:
        created = await http.post(
            f"/api/v1/consults/{visit.room}/invitations",
            json={"display_name": "Daughter"},
            headers=bearer(token_for(visit.clinician, settings)),
        )
    await media_page.goto(live_server.url + created.json()["link_path"])
    await expect(media_page.locator("#invited-as")).to_contain_text("Daughter")
    # The link is spent, but this tab holds its ticket: a reload is not refused.
    await media_page.reload()
    await expect(media_page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(media_page.locator("#invited-as")).to_contain_text("Daughter")
    await expect(media_page.get_by_role("alert")).to_have_count(0)
