"""Headers every answer carries: no caching of API data, no content sniffing, HSTS behind https.

Answers of the REST API and of FHIR carry patient data (or errors about it): a shared cache or the
browser's disk must not keep them, so they get `Cache-Control: no-store` unless the endpoint chose
its own policy. Every answer gets `X-Content-Type-Options: nosniff`, so a browser never runs a JSON
or an uploaded document as a script or a page. When the public URL is https, every answer also tells
browsers to use https only (`Strict-Transport-Security`); over plain http (`ownat dev` on a laptop)
that header would be ignored at best, so it is not sent.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A year, the usual minimum for browsers' preload lists; subdomains are left to their own servers.
HSTS_VALUE = b"max-age=31536000"
DATA_PATHS = ("/api/", "/fhir/")


class ResponseHeadersMiddleware:
    """Adds the security headers to every HTTP answer, keeping those an endpoint set itself."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carries_data = str(scope.get("path", "")).startswith(DATA_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"x-content-type-options" not in present:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if carries_data and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if self.https and b"strict-transport-security" not in present:
                    headers.append((b"strict-transport-security", HSTS_VALUE))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
