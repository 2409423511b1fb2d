"""Browser tests: the app served by uvicorn on a free loopback port, driven by headless Chromium.

The server runs as a task on the test session's event loop, serving the session's `app` (already
started, on this run's database): the browser's requests are handled while the test awaits
Playwright, and tests can look underneath with `sessions`. Playwright's async API shares the same
loop, so nothing needs a thread. Chromium is Debian's (`/usr/bin/chromium`); browsers cannot be
downloaded here.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a loaded 2-core CI machine; Playwright still returns as soon as the page is ready.
TIMEOUT_MS = 15_000


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[LiveServer]:
    """Serves a started app over real HTTP on 127.0.0.1 and a free port while the block runs."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    # Listening before the server starts: early connections wait in the backlog, no polling needed.
    listener.listen(128)
    port = listener.getsockname()[1]
    # lifespan "off": the app's lifespan is already running (its owner started it).
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.fixture(scope="session")
async def live_server(app: FastAPI) -> AsyncIterator[LiveServer]:
    """The session's app served over real HTTP on 127.0.0.1 and a free port."""
    async with serve(app) as served:
        yield served


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole run."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile per test (its own sessionStorage), downloads allowed."""
    created = await browser.new_context(accept_downloads=True, timezone_id="Europe/Paris", locale="en-GB")
    created.set_default_timeout(TIMEOUT_MS)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A tab that fails the test on any uncaught script error."""
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert not errors, f"script errors in the page: {errors}"
