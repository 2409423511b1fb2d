"""How `ownat api` and `ownat dev` run uvicorn: the one place its options are chosen.

uvicorn trusts `X-Forwarded-For` from 127.0.0.1 by default and rewrites the socket's address with
it, so any process on the api host could claim to be any client: the per-address login limit and
the audit log's addresses would take its word. Proxy headers are off here; the app's middleware
alone decides, from `OWNAT_TRUSTED_PROXY_HOPS` (0: the socket's address is the client).
"""

from __future__ import annotations

from typing import Any

import uvicorn


def uvicorn_config(app: Any, *, host: str, port: int, websocket_compression: bool = False) -> uvicorn.Config:
    """The server configuration of an api process (proxy headers ignored, our access log only;
    WebSocket compression as `Settings.websocket_compression` says)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # Our middleware logs each request with its id; uvicorn's own access log would repeat it.
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
        ws_per_message_deflate=websocket_compression,
        proxy_headers=False,
        forwarded_allow_ips="",
    )
