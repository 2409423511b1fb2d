"""WebSocket compression is off unless a deployment turns it on (`OWNAT_WEBSOCKET_COMPRESSION`).

Each connection keeps its own deflate state, so the hub would compress one ward frame again for
every nurse watching it; the handshake shows whether the server agreed to compress.
"""

from __future__ import annotations

from websockets.asyncio.client import connect

from core.settings import Settings
from tests.api.served import served


async def _extensions_agreed(settings: Settings) -> str | None:
    async with served(settings) as base_url:
        # The client offers permessage-deflate, as browsers do.
        url = base_url.replace("http://", "ws://") + "/ws"
        async with connect(url, compression="deflate") as socket:
            return socket.response.headers.get("Sec-WebSocket-Extensions")


async def test_dashboards_are_sent_uncompressed_by_default(settings: Settings) -> None:
    assert Settings().websocket_compression is False
    assert await _extensions_agreed(settings.model_copy(update={"websocket_compression": False})) is None


async def test_a_deployment_can_turn_compression_on(settings: Settings) -> None:
    agreed = await _extensions_agreed(settings.model_copy(update={"websocket_compression": True}))
    assert agreed is not None and "permessage-deflate" in agreed
