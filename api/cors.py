"""Cross-origin access for SMART apps running in a browser on their own origin.

Only the paths such an app calls (discovery, the token, revocation and introspection endpoints, the
JWKS and `/fhir/R4`) answer CORS, to any origin and without credentials: they authenticate by bearer
token or client credentials in the request, never by cookies, so another origin gains nothing a
direct request would not give it. The rest of the platform (pages, `/api/v1`) stays same-origin.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CORS_PREFIX = "/fhir/R4"
CORS_PATHS_EXACT = frozenset(
    {"/.well-known/smart-configuration", "/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/jwks"}
)
ALLOWED_HEADERS = (
    b"Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, Prefer, X-Request-ID"
)
EXPOSED_HEADERS = b"Location, ETag, Last-Modified, Content-Location, Retry-After, X-Request-ID"
MAX_AGE_S = b"600"


def _applies(path: str) -> bool:
    return path in CORS_PATHS_EXACT or path == CORS_PREFIX or path.startswith(CORS_PREFIX + "/")


class SmartCorsMiddleware:
    """Adds CORS headers on SMART's paths and answers their preflight requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"origin" not in headers:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", b"GET, POST, PUT, DELETE"),
                        (b"access-control-allow-headers", ALLOWED_HEADERS),
                        (b"access-control-max-age", MAX_AGE_S),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", EXPOSED_HEADERS),
                ]
            await send(message)

        await self.app(scope, receive, send_with_cors)
