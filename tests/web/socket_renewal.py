"""Browser-test support for web/shared/socket-renewal.js: a token due soon, a fake clock, and the
`auth` messages a page's sockets send (the dashboard's hub socket and the consult pages' alike)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Page, WebSocket

from tests.devices.ingest_helpers import GUARD_S

# How far ahead the tab's session says its token is to be renewed; the test moves the clock past it.
DUE_IN_MS = 60_000


async def stored_session(page: Page) -> dict[str, Any]:
    return json.loads(await page.evaluate("sessionStorage.getItem('ownat.session')"))


@dataclass
class SocketAuths:
    """The tokens the page's sockets sent in `auth` messages, the sockets it opened, and whether
    the server accepted a renewal (`ready` with `renewed: true`)."""

    tokens: list[str] = field(default_factory=list)
    sockets: list[WebSocket] = field(default_factory=list)
    accepted: asyncio.Event = field(default_factory=asyncio.Event)

    def watch(self, socket: WebSocket) -> None:
        self.sockets.append(socket)
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        if message["type"] == "auth":
            self.tokens.append(message["token"])

    def _received(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        if message["type"] == "ready" and message.get("renewed"):
            self.accepted.set()


async def token_due_soon(page: Page) -> tuple[dict[str, Any], SocketAuths]:
    """Makes the signed-in tab's token due in a minute of a fake clock; watches the sockets opened next."""
    stored = await stored_session(page)
    await page.evaluate(
        "s => sessionStorage.setItem('ownat.session', s)",
        json.dumps({**stored, "expiresAt": await page.evaluate(f"Date.now() + {DUE_IN_MS}")}),
    )
    await page.clock.install()
    auths = SocketAuths()
    page.on("websocket", auths.watch)
    return stored, auths


async def renew_and_check(page: Page, stored: dict[str, Any], auths: SocketAuths) -> None:
    """Moves past the due time: the token is refreshed, handed to the one open socket, and accepted."""
    await page.clock.fast_forward(DUE_IN_MS + 1_000)
    async with asyncio.timeout(GUARD_S):
        await auths.accepted.wait()
    renewed = await stored_session(page)
    assert renewed["refreshToken"] != stored["refreshToken"], "refresh tokens rotate"
    assert auths.tokens == [stored["accessToken"], renewed["accessToken"]]
    assert len(auths.sockets) == 1, "the same socket signed in again"
