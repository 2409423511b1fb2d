"""The page shells and assets (security headers, allow-listed assets), sign-in by role, token refresh."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.pages import WEB_ROOT
from core.principal import Role
from tests.builders import create_user
from tests.web.conftest import LiveServer
from tests.web.portal_data import portal_patient
from tests.web.test_portal import sign_in


@pytest.mark.parametrize("path", ["/", "/portal/", "/staff/"])
async def test_pages_carry_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    # No inline scripts: the policy would block them, so none may be written.
    assert "<script>" not in response.text and '<script type="module">' not in response.text


async def test_assets_are_served_with_their_types(client: httpx.AsyncClient) -> None:
    script = await client.get("/static/shared/api.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    style = await client.get("/static/shared/style.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


async def test_the_favicon_is_served_and_every_page_links_it(client: httpx.AsyncClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    pages = sorted(WEB_ROOT.rglob("*.html"))
    assert len(pages) >= 10
    unlinked = [
        str(page.relative_to(WEB_ROOT))
        for page in pages
        if '<link rel="icon" href="/favicon.ico">' not in page.read_text()
    ]
    assert unlinked == []


@pytest.mark.parametrize(
    "path",
    [
        "/static/../api/app.py",
        "/static/%2e%2e/api/app.py",
        "/static/__init__.py",
        "/static/index.html",
        "/static/nothing.js",
    ],
)
async def test_only_allow_listed_assets_under_web_are_served(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_section_paths_gain_their_slash(client: httpx.AsyncClient) -> None:
    response = await client.get("/portal")
    assert response.status_code == 308 and response.headers["location"] == "/portal/"


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.ADMIN])
async def test_staff_sign_in_to_the_staff_home(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    user, password = await create_user(sessions, role=role, full_name="Robin Staff")
    await sign_in(page, live_server, user.email, password)
    await expect(page).to_have_url(live_server.url + "/staff/")
    await expect(page.get_by_role("heading", name="Welcome, Robin Staff")).to_be_visible()
    # The API reference, the ward dashboard and patient messages for everyone; video consultations
    # for clinicians; administration and the billing office for administrators.
    expected = {Role.NURSE: 3, Role.CLINICIAN: 4, Role.ADMIN: 5}[role]
    await expect(page.locator("#staff-pages a")).to_have_count(expected)
    await expect(page.get_by_role("link", name="Ward dashboard")).to_have_attribute(
        "href", "/staff/dashboard/"
    )
    # The patient portal is not theirs: it sends them home.
    await page.goto(live_server.url + "/portal/")
    await expect(page).to_have_url(live_server.url + "/staff/")


async def test_a_wrong_password_is_explained(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await create_user(sessions, role=Role.PATIENT)
    await sign_in(page, live_server, user.email, "not-the-password")
    await expect(page.get_by_role("alert")).to_contain_text("The email or password is incorrect.")
    await expect(page).to_have_url(live_server.url + "/")


async def test_a_patient_is_kept_out_of_the_staff_home(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await portal_patient(sessions)
    await sign_in(page, live_server, user.email, password)
    await expect(page).to_have_url(live_server.url + "/portal/")
    await page.goto(live_server.url + "/staff/")
    await expect(page).to_have_url(live_server.url + "/portal/")


async def test_an_invalid_access_token_is_refreshed_with_the_rotating_refresh_token(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, password = await portal_patient(sessions)
    await sign_in(page, live_server, user.email, password)
    # The sign-in page is "ready" too: wait for the portal it leads to.
    await expect(page).to_have_url(live_server.url + "/portal/")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    before = json.loads(await page.evaluate("sessionStorage.getItem('ownat.session')"))
    spoiled = {**before, "accessToken": "expired-or-revoked"}
    await page.evaluate("s => sessionStorage.setItem('ownat.session', s)", json.dumps(spoiled))
    await page.reload()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await expect(page.locator("#messages .alert-error")).to_have_count(0)
    after = json.loads(await page.evaluate("sessionStorage.getItem('ownat.session')"))
    assert after["refreshToken"] != before["refreshToken"]
    assert after["accessToken"] not in (before["accessToken"], "expired-or-revoked")
    # Tokens never appear in the address bar.
    assert after["accessToken"] not in page.url and after["refreshToken"] not in page.url
