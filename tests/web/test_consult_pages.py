"""The consult pages in headless Chromium with a fake camera: the patient's echo check; the patient
waiting and admitted by a clinician, as an aiortc peer on the signalling socket and as the clinician's
page in a second browser context; media received (getStats), chat, and notes beside the video; the
signalling socket signed in again with a fresh token before the first expires."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters.notes.models import ClinicalNote
from realtime.consult.peers.recorder import recording_id
from tests.builders import http_client, login_tokens
from tests.realtime.consult_helpers import Peer, consult_client, video_visit
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, LiveServer
from tests.web.socket_renewal import renew_and_check, token_due_soon
from tests.web.test_portal import sign_in

# A fake camera and microphone, and permission granted without a prompt.
MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
MEDIA_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
async def media_browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + MEDIA_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def media_page(media_browser: Browser) -> AsyncIterator[Page]:
    context: BrowserContext = await media_browser.new_context(timezone_id="Europe/Paris", locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        await context.close()
    assert not errors, f"script errors in the page: {errors}"


async def received_frames(page: Page, frames: int) -> None:
    """Waits until the page's connections have decoded `frames` video frames (getStats, inbound-rtp)."""
    await page.wait_for_function(
        "async (wanted) => { const s = await window.ownatConsult.stats(); return s.frames >= wanted && s.audioBytes > 0; }",
        arg=frames,
        polling=250,
        timeout=MEDIA_TIMEOUT_MS,
    )


async def test_the_echo_check_returns_the_camera_from_the_server(
    media_page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], app: FastAPI
) -> None:
    visit = await video_visit(sessions)
    await sign_in(media_page, live_server, visit.patient.email, visit.patient_password)
    await expect(media_page).to_have_url(live_server.url + "/portal/")
    await media_page.goto(live_server.url + "/consult/")
    await expect(media_page.locator("body")).to_have_attribute("data-ready", "true")
    await media_page.get_by_role("button", name="Turn on camera and microphone").click()
    await media_page.get_by_role("button", name="Test the connection").click()
    await received_frames(media_page, 10)
    await expect(media_page.locator("#echo-status")).to_contain_text("Receiving", timeout=MEDIA_TIMEOUT_MS)
    assert len(app.state.peer_registry) == 1
    # The server is asked to end the check before the page hangs up, so it still finds it.
    async with media_page.expect_response(lambda r: r.request.method == "DELETE") as ending:
        await media_page.get_by_role("button", name="End the test").click()
    assert (await ending.value).status == 204
    await expect(media_page.locator("#echo-status")).to_have_text("Test ended.")
    assert len(app.state.peer_registry) == 0


async def wait_in_the_waiting_room(page: Page, server: LiveServer, room: uuid.UUID) -> None:
    """The signed-in patient opens the consult page, turns on the camera and joins the room."""
    await page.goto(server.url + "/consult/")
    await page.get_by_role("button", name="Turn on camera and microphone").click()
    await page.locator(f"#visits li[data-appointment-id='{room}']").get_by_role("button", name="Join").click()
    await expect(page.locator("#call-status")).to_contain_text("waiting room")


async def test_a_patient_waits_is_admitted_and_receives_the_clinicians_media(
    media_page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], app: FastAPI
) -> None:
    visit = await video_visit(sessions)
    await sign_in(media_page, live_server, visit.patient.email, visit.patient_password)
    await expect(media_page).to_have_url(live_server.url + "/portal/")
    await wait_in_the_waiting_room(media_page, live_server, visit.room)

    async with http_client(app) as http:
        token = (await login_tokens(http, visit.clinician.email, visit.clinician_password))["access_token"]
    url = live_server.url.replace("http://", "ws://") + "/ws/consult"
    async with consult_client(url, token) as clinician_ws:
        await clinician_ws.join(visit.room)
        waiting = await clinician_ws.expect("waiting")
        while not waiting["waiting"]:
            waiting = await clinician_ws.expect("waiting")
        patient_id = waiting["waiting"][0]["id"]
        clinician = Peer(clinician_ws, pc=RTCPeerConnection(RTCConfiguration(iceServers=[])))
        try:
            await clinician_ws.send(type="admit", participant=patient_id)
            # The admitted browser offers; the clinician answers and trickles its candidates.
            offer = await clinician.answer_offer()
            assert offer["from"] == patient_id
            await expect(media_page.locator("#call-status")).to_have_text("You are in the consultation.")
            await received_frames(media_page, 10)
            await clinician.media_flowing()

            await media_page.get_by_label("Message").fill("I can see you")
            await media_page.get_by_role("button", name="Send").click()
            assert (await clinician_ws.expect("chat", text="I can see you"))["from"] == patient_id
            await clinician_ws.send(type="chat", text="Good morning")
            await expect(media_page.locator("#chat")).to_contain_text("Good morning")

            await clinician_ws.send(type="end")
            await expect(media_page.locator("#call-status")).to_have_text("The consultation has ended.")
        finally:
            await clinician.close()


async def signed_in_page(browser: Browser, server: LiveServer, email: str, password: str, home: str) -> Page:
    context = await browser.new_context(timezone_id="Europe/Paris", locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    await sign_in(page, server, email, password)
    await expect(page).to_have_url(server.url + home)
    return page


async def test_the_clinician_admits_the_waiting_patient_and_consults_with_notes_beside_the_video(
    media_browser: Browser, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], app: FastAPI
) -> None:
    visit = await video_visit(sessions)
    clinician = await signed_in_page(
        media_browser, live_server, visit.clinician.email, visit.clinician_password, "/staff/"
    )
    patient = await signed_in_page(
        media_browser, live_server, visit.patient.email, visit.patient_password, "/portal/"
    )
    try:
        # The staff home and the portal each link to their consult page.
        await clinician.get_by_role("link", name="Video consultations").click()
        await expect(clinician).to_have_url(live_server.url + "/consult/clinician/")
        await patient.get_by_role("link", name="Video consultation").click()
        await expect(patient).to_have_url(live_server.url + "/consult/")

        await patient.get_by_role("button", name="Turn on camera and microphone").click()
        await (
            patient.locator(f"#visits li[data-appointment-id='{visit.room}']")
            .get_by_role("button", name="Join")
            .click()
        )
        await expect(patient.locator("#call-status")).to_contain_text("waiting room")

        appointment = clinician.locator(f"#appointments li[data-appointment-id='{visit.room}']")
        await appointment.get_by_role("button", name="Open room").click()
        waiting = clinician.locator("#waiting li")
        await expect(waiting).to_have_count(1)
        await waiting.get_by_role("button").click()

        await expect(patient.locator("#call-status")).to_have_text("You are in the consultation.")
        await received_frames(patient, 10)
        await received_frames(clinician, 10)
        await expect(clinician.locator("#waiting")).to_contain_text("Nobody is waiting.")

        await clinician.get_by_label("Message").fill("Good morning")
        await clinician.get_by_role("button", name="Send").click()
        await expect(patient.locator("#chat")).to_contain_text("Good morning")

        await expect(clinician.locator("#note-form")).to_be_visible(timeout=MEDIA_TIMEOUT_MS)
        await clinician.get_by_label("New note").fill("Video follow-up: wound healing well.")
        await clinician.get_by_role("button", name="Save note").click()
        await expect(clinician.locator("#notes")).to_contain_text("wound healing well")
        async with sessions() as session:
            texts = list(
                await session.scalars(
                    select(ClinicalNote.text).where(ClinicalNote.author_id == visit.clinician.id)
                )
            )
        assert texts == ["Video follow-up: wound healing well."]
        consult_encounter = await clinician.evaluate(
            f"async () => (await (await fetch('/api/v1/consults/{visit.room}', "
            "{headers: {Authorization: 'Bearer ' + JSON.parse(sessionStorage.getItem('ownat.session')).accessToken}})).json()).encounter_id"
        )

        # Recording: both tick their consent, the clinician starts the recorder, which joins the room.
        await patient.get_by_label("I agree to this consultation being recorded").check()
        await expect(patient.locator("#consent")).to_be_checked()
        await clinician.get_by_label("I consent to recording").check()
        await clinician.get_by_role("button", name="Start recording").click()
        await expect(clinician.locator("#recording-state")).to_have_text(
            "● Recording", timeout=MEDIA_TIMEOUT_MS
        )
        recording = app.state.peer_registry.get(recording_id(uuid.UUID(consult_encounter)))
        await asyncio.wait_for(recording.recorded(video=10, audio=20), MEDIA_TIMEOUT_MS / 1000)
        # Three parties encoding video on two loaded cores: the page may answer slowly.
        await clinician.get_by_role("button", name="Stop recording").click(timeout=MEDIA_TIMEOUT_MS)
        await expect(clinician.locator("#messages")).to_contain_text(
            "The recording was saved to the record", timeout=MEDIA_TIMEOUT_MS
        )

        await clinician.get_by_role("button", name="End consultation").click()
        await clinician.get_by_role("button", name="End for everyone").click()
        await expect(patient.locator("#call-status")).to_have_text("The consultation has ended.")
        await expect(clinician.locator("#call-status")).to_have_text("The consultation has ended.")
    finally:
        for page in (clinician, patient):
            await page.context.close()
    assert not clinician.errors and not patient.errors, (clinician.errors, patient.errors)  # type: ignore[attr-defined]


async def test_the_waiting_patient_renews_the_token_on_the_open_signalling_socket(
    media_page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    visit = await video_visit(sessions)
    await sign_in(media_page, live_server, visit.patient.email, visit.patient_password)
    await expect(media_page).to_have_url(live_server.url + "/portal/")
    stored, auths = await token_due_soon(media_page)
    await wait_in_the_waiting_room(media_page, live_server, visit.room)
    await renew_and_check(media_page, stored, auths)
    await expect(media_page.locator("#call-status")).to_contain_text("waiting room")
