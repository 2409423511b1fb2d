"""The API docs page renders from this server alone: no CDN, under the same CSP as the other pages."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Page, Route, expect

from tests.web.conftest import LiveServer


async def test_the_docs_render_offline_under_the_pages_csp(
    context: BrowserContext, page: Page, live_server: LiveServer
) -> None:
    elsewhere: list[str] = []

    async def only_this_server(route: Route) -> None:
        # As if offline: anything for another origin is recorded and fails.
        if route.request.url.startswith(live_server.url + "/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_this_server)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    await page.goto(f"{live_server.url}/api/v1/docs")
    await page.wait_for_selector("body[data-ready=true]")
    await expect(page.get_by_role("heading", name="Ownat")).to_be_visible()
    await expect(page.get_by_role("link", name="/api/v1/auth/login", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert elsewhere == []
    assert refused == []
