"""The video visit as the patient and the clinician live it, in headless Chromium with fake cameras:
joining from the list, the call's controls (mute, camera off and on, seen by the other side), ending
with a confirmation, and afterwards no camera or microphone left running, no connection left open and
both lists showing the visit finished; joining early (a countdown in words, then the room opened by
itself); and a dropped signalling socket reconnected into the same call.

Every MediaStreamTrack and RTCPeerConnection a page makes is collected by a script run before the
page's own (getUserMedia and RTCPeerConnection wrapped), so the checks see what the browser holds,
not what the page believes it holds."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection
from fastapi import FastAPI
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.consult.connection import ConsultConnection
from tests.builders import http_client, login_tokens
from tests.realtime.consult_helpers import Peer, consult_client, video_visit
from tests.web.conftest import TIMEOUT_MS, LiveServer
from tests.web.test_consult_pages import MEDIA_TIMEOUT_MS, media_browser, received_frames
from tests.web.test_portal import sign_in

__all__ = ["media_browser"]

COLLECT_MEDIA = """
window.__media = { local: [], remote: [], connections: [] };
const capture = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await capture(constraints);
  window.__media.local.push(...stream.getTracks());
  return stream;
};
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Native(...args);
  window.__media.connections.push(pc);
  pc.addEventListener("track", (event) => window.__media.remote.push(event.track));
  return pc;
};
window.RTCPeerConnection.prototype = Native.prototype;
"""
MEDIA_HELD = """() => ({
  local: window.__media.local.map((t) => `${t.kind}:${t.readyState}`),
  remote: window.__media.remote.map((t) => `${t.kind}:${t.readyState}`),
  connections: window.__media.connections.map((pc) => pc.signalingState),
})"""
ENDED = {"audio:ended", "video:ended"}


async def call_page(browser: Browser, server: LiveServer, email: str, password: str, path: str) -> Page:
    """A signed-in tab of its own context, its media collected, opened at `path`."""
    context = await browser.new_context(timezone_id="Europe/Paris", locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    await context.add_init_script(COLLECT_MEDIA)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    await sign_in(page, server, email, password)
    # Signed in once the sign-in page has moved on (to the portal or the staff home).
    await page.wait_for_url(re.compile(r"/(portal|staff)/$"))
    await page.goto(server.url + path)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


async def media_held(page: Page) -> dict[str, list[str]]:
    held: dict[str, list[str]] = await page.evaluate(MEDIA_HELD)
    return held


async def frames_received(page: Page) -> int:
    stats: dict[str, Any] = await page.evaluate("() => window.ownatConsult.stats()")
    return int(stats["frames"])


async def test_a_visit_with_mute_and_camera_off_ends_with_every_track_stopped_on_both_sides(
    media_browser: Browser, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions)
    clinician = await call_page(
        media_browser, live_server, visit.clinician.email, visit.clinician_password, "/consult/clinician/"
    )
    patient = await call_page(
        media_browser, live_server, visit.patient.email, visit.patient_password, "/consult/"
    )
    try:
        row = patient.locator(f"#visits li[data-appointment-id='{visit.room}']")
        await expect(row).to_contain_text("The room is open; the appointment starts in 5 minutes.")
        await row.get_by_role("button", name="Join").click()
        # The call comes into view with the keyboard focus on it.
        await expect(patient.locator("#call-title")).to_be_focused()
        await expect(patient.locator("#call-title")).to_be_in_viewport()
        await expect(patient.locator("#call-status")).to_contain_text("You are in the waiting room.")

        clinician_row = clinician.locator(f"#appointments li[data-appointment-id='{visit.room}']")
        await clinician_row.get_by_role("button", name="Open room").click()
        await clinician.locator("#waiting li").get_by_role("button").click()
        await expect(patient.locator("#call-status")).to_have_text("You are in the consultation.")
        await received_frames(patient, 10)
        await received_frames(clinician, 10)

        # Muted and camera off: the camera is released, and the clinician is told.
        await patient.get_by_role("button", name="Mute microphone").click()
        await expect(patient.get_by_role("button", name="Unmute microphone")).to_have_attribute(
            "aria-pressed", "true"
        )
        await patient.get_by_role("button", name="Turn camera off").click()
        patient_figure = clinician.locator("#videos figure[data-participant-id]")
        await expect(patient_figure).to_contain_text("Microphone muted and camera off")
        held = await media_held(patient)
        assert held["local"] == ["audio:live", "video:ended"], held
        # On again: a new camera track reaches the clinician.
        await patient.get_by_role("button", name="Turn camera on").click()
        await patient.get_by_role("button", name="Unmute microphone").click()
        await expect(patient_figure).not_to_contain_text("camera off")
        before = await frames_received(clinician)
        await clinician.wait_for_function(
            "async (n) => (await window.ownatConsult.stats()).frames >= n",
            arg=before + 10,
            timeout=MEDIA_TIMEOUT_MS,
        )

        # Ending asks first; "Keep talking" changes nothing.
        await clinician.get_by_role("button", name="End consultation").click()
        await clinician.get_by_role("dialog").get_by_role("button", name="Keep talking").click()
        await expect(clinician.locator("#call-status")).to_have_text("In consultation.")
        await clinician.get_by_role("button", name="End consultation").click()
        await clinician.get_by_role("dialog").get_by_role("button", name="End for everyone").click()

        for page in (patient, clinician):
            await expect(page.locator("#call-status")).to_have_text("The consultation has ended.")
            await expect(page.locator("#ended")).to_contain_text("Your camera and microphone are off.")
            await expect(page.locator("#chat-closed")).to_be_visible()
            await expect(page.locator("#chat-form")).to_be_hidden()
            held = await media_held(page)
            # Their camera and microphone (the patient's camera twice) and the other side's two tracks.
            assert len(held["local"]) >= 2 and set(held["local"]) == ENDED, held
            assert len(held["remote"]) >= 2 and set(held["remote"]) == ENDED, held
            assert held["connections"] and set(held["connections"]) == {"closed"}, held
        # Both lists say so, without a reload.
        await expect(row).to_contain_text("Finished")
        await expect(row.get_by_role("button")).to_have_count(0)
        await expect(clinician_row).to_contain_text("Finished")
        await expect(clinician_row.get_by_role("button")).to_have_count(0)
    finally:
        for page in (clinician, patient):
            await page.context.close()
    assert not clinician.errors and not patient.errors, (clinician.errors, patient.errors)  # type: ignore[attr-defined]


async def test_joining_early_counts_down_in_words_and_opens_the_room_by_itself(
    media_browser: Browser, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The room opens 15 minutes before the start: here, in about ten seconds.
    visit = await video_visit(sessions, starts_in=timedelta(minutes=15, seconds=10))
    patient = await call_page(
        media_browser, live_server, visit.patient.email, visit.patient_password, "/consult/"
    )
    try:
        row = patient.locator(f"#visits li[data-appointment-id='{visit.room}']")
        await expect(row).to_contain_text("The room opens at")
        await expect(row).to_contain_text("in 1 minute.")
        await row.get_by_role("button", name="Join").click()
        await expect(patient.locator("#waiting-text")).to_contain_text("This page opens it by itself")
        await expect(patient.locator("#call-status")).to_contain_text("Your appointment starts today at")
        await expect(patient.locator("#call-status")).to_contain_text("the room opens in 1 minute")
        # Nothing is held while waiting: the camera opens with the room.
        assert (await media_held(patient))["local"] == []
        await expect(patient.locator("#call-status")).to_contain_text(
            "You are in the waiting room.", timeout=MEDIA_TIMEOUT_MS
        )
        await patient.get_by_role("button", name="Leave").click()
        await patient.get_by_role("dialog").get_by_role("button", name="Leave").click()
        await expect(patient.locator("#call-status")).to_have_text("You left the consultation.")
        await expect(patient.get_by_role("button", name="Join again")).to_be_visible()
        held = await media_held(patient)
        assert set(held["local"]) == ENDED and not held["remote"], held
    finally:
        await patient.context.close()
    assert not patient.errors  # type: ignore[attr-defined]


def _patient_connection(app: FastAPI, room: uuid.UUID) -> ConsultConnection:
    connections = app.state.consult.local.values()
    return next(
        c for c in connections if c.room == room and c.member is not None and c.member.role == "patient"
    )


async def test_a_dropped_signalling_socket_reconnects_into_the_same_call(
    media_browser: Browser, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], app: FastAPI
) -> None:
    visit = await video_visit(sessions)
    patient = await call_page(
        media_browser, live_server, visit.patient.email, visit.patient_password, "/consult/"
    )
    async with http_client(app) as http:
        token = (await login_tokens(http, visit.clinician.email, visit.clinician_password))["access_token"]
    url = live_server.url.replace("http://", "ws://") + "/ws/consult"
    peers: list[Peer] = []
    try:
        async with consult_client(url, token) as clinician_ws:
            await clinician_ws.join(visit.room)
            await (
                patient.locator(f"#visits li[data-appointment-id='{visit.room}']")
                .get_by_role("button", name="Join")
                .click()
            )
            waiting = await clinician_ws.expect("waiting")
            while not waiting["waiting"]:
                waiting = await clinician_ws.expect("waiting")
            peers.append(Peer(clinician_ws, pc=RTCPeerConnection(RTCConfiguration(iceServers=[]))))
            await clinician_ws.send(type="admit", participant=waiting["waiting"][0]["id"])
            await peers[0].answer_offer()
            await received_frames(patient, 10)

            # The server drops the socket (a restart, a proxy timing out): the page comes back by itself.
            _patient_connection(app, visit.room).close(1012)
            await clinician_ws.expect("peer-left")
            rejoined = await clinician_ws.expect("peer-joined")
            assert rejoined["participant"]["status"] == "admitted"
            peers.append(Peer(clinician_ws, pc=RTCPeerConnection(RTCConfiguration(iceServers=[]))))
            await peers[1].answer_offer()
            await expect(patient.locator("#call-status")).to_have_text("You are back in the consultation.")
            await peers[1].media_flowing()
    finally:
        await patient.context.close()
        for peer in peers:
            await peer.close()
    assert not patient.errors  # type: ignore[attr-defined]
