"""RFC 9457 problem details: the one place where errors become HTTP answers."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.refusal_audit import record_refusal
from core.errors import DomainError, RateLimited
from core.logging import request_id_var

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://ownat.org/problems/"
# A client told to retry after a Redis failure waits this long: a pool busy for its timeout, or
# Redis restarting, is usually over by then.
REDIS_RETRY_AFTER_S = 2

log = logging.getLogger(__name__)


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; `extra` members are added beside the standard ones."""
    # Extension members never replace the standard ones (a domain error's `status` is not ours).
    body: dict[str, Any] = {
        **extra,
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    if error.status in (401, 403):
        await record_refusal(request, error)
    headers = {"Retry-After": str(error.retry_after_s)} if isinstance(error, RateLimited) else None
    if error.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="ownat"'}
    reserved = {"status", "code", "title", "detail", "instance", "headers", "type", "request_id"}
    extra = {(f"{key}_" if key in reserved else key): value for key, value in error.extra.items()}
    return problem_response(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        instance=request.url.path,
        headers=headers,
        **extra,
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        return problem_response(
            status=400,
            code="malformed-json",
            title="Malformed JSON",
            detail=f"The request body is not valid JSON: {reason}".rstrip(": "),
            instance=request.url.path,
        )
    fields = [
        {
            "pointer": "#/" + "/".join(str(part) for part in e.get("loc", ())),
            "detail": e.get("msg", "invalid"),
            "type": e.get("type"),
        }
        for e in errors
    ]
    summary = "; ".join(f"{f['pointer']}: {f['detail']}" for f in fields[:5])
    return problem_response(
        status=422,
        code="validation-failed",
        title="Validation failed",
        detail=f"The request does not match what this endpoint accepts: {summary}",
        instance=request.url.path,
        errors=fields,
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    phrase = HTTPStatus(error.status_code).phrase
    detail = error.detail if isinstance(error.detail, str) and error.detail != phrase else None
    if error.status_code == 404 and detail is None:
        detail = f"There is no resource at {request.url.path}"
    if error.status_code == 405 and detail is None:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        status=error.status_code,
        code=phrase.lower().replace(" ", "-"),
        title=phrase,
        detail=detail or phrase,
        instance=request.url.path,
        headers=getattr(error, "headers", None),
    )


async def _redis_error(request: Request, error: Exception) -> JSONResponse:
    # Sessions and rate limits cannot be checked: the request is refused for now, never let through.
    log.warning("Redis unavailable: %s", error)
    return problem_response(
        status=503,
        code="unavailable",
        title="Service unavailable",
        detail="The server cannot check sessions or limits right now; try again shortly.",
        instance=request.url.path,
        headers={"Retry-After": str(REDIS_RETRY_AFTER_S)},
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
