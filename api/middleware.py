"""ASGI middleware: request ids, client addresses, access logs, metrics, traces and the body size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response
from clinical.fhir import FHIR_MEDIA_TYPE, operation_outcome
from core import tracing
from core.audit import client_address_var
from core.logging import request_id_var

REQUEST_ID_HEADER = "x-request-id"
FHIR_PATH = "/fhir/"
# A caller-supplied id is kept only if it is short and harmless in logs.
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

access_log = logging.getLogger("ownat.access")
log = logging.getLogger(__name__)


class HttpMetrics:
    """Request counters and latencies, registered in the app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "ownat_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "ownat_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )


class RequestContextMiddleware:
    """Gives every request an id (echoed in `X-Request-ID`), logs it, measures it, traces it while
    tracing is on, and turns an unhandled exception into a logged problem+json 500 that still
    carries the id."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, trusted_proxy_hops: int = 0) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted_proxy_hops = trusted_proxy_hops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        supplied = headers.get(REQUEST_ID_HEADER, "")
        request_id = supplied if _ACCEPTABLE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request_id_var.set(request_id)
        client_address_var.set(self._client_address(scope, headers))
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        tracer = tracing.tracer()
        if tracer is not None:
            span, token = tracing.start_server_span(
                tracer, method=scope.get("method", ""), path=scope.get("path", ""), headers=headers
            )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not status["sent"]:
                await _send_internal_error(scope, send_with_id)
        finally:
            self._observe(scope, int(status["code"]), time.perf_counter() - started)
            if tracer is not None:
                route = getattr(scope.get("route"), "path", None)
                tracing.end_server_span(
                    span, token, method=scope.get("method", ""), route=route, status=int(status["code"])
                )

    def _client_address(self, scope: Scope, headers: dict[str, str]) -> str | None:
        peer = scope.get("client")
        address = peer[0] if peer else None
        forwarded = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
        # Only hops we trust may speak for the client; anything further left could be forged.
        if self.trusted_proxy_hops and forwarded:
            address = forwarded[max(0, len(forwarded) - self.trusted_proxy_hops)]
        return address

    def _observe(self, scope: Scope, status: int, elapsed_s: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = scope.get("method", "")
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(elapsed_s)
        access_log.info(
            "request",
            extra={
                "method": method,
                "path": scope.get("path"),
                "status": status,
                "duration_ms": round(elapsed_s * 1000, 2),
            },
        )


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413 before any handler reads them."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger_limits: dict[re.Pattern[str], int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Endpoints that take files get their own limit; matched on the whole path.
        self.larger_limits = larger_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = _headers(scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_too_large(scope, send, limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read it here, up to the limit, then replay it.
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _send_too_large(scope, send, limit)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _limit_for(self, path: str) -> int:
        for pattern, limit in self.larger_limits.items():
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _send_response(send: Send, response: Any) -> None:
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})


async def _send_too_large(scope: Scope, send: Send, limit: int) -> None:
    detail = f"The request body exceeds the limit of {limit} bytes for this endpoint."
    if str(scope.get("path", "")).startswith(FHIR_PATH):
        # FHIR clients read errors as OperationOutcomes, whatever answers them.
        body = operation_outcome(status=413, diagnostics=detail, error_code="payload-too-large")
        await _send_response(send, JSONResponse(body, status_code=413, media_type=FHIR_MEDIA_TYPE))
        return
    response = problem_response(
        status=413,
        code="payload-too-large",
        title="Payload too large",
        detail=detail,
        instance=scope.get("path"),
    )
    await _send_response(send, response)


async def _send_internal_error(scope: Scope, send: Send) -> None:
    response = problem_response(
        status=500,
        code="internal-error",
        title="Internal server error",
        detail="The server failed to handle this request; it has been logged with the request id.",
        instance=scope.get("path"),
    )
    await _send_response(send, response)
