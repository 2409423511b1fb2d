"""Domain errors. Each has a stable code and a human message; `api` renders them as problem+json."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a client may cause; never used for bugs."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class InvalidInput(DomainError):
    status, code, title = 422, "invalid-input", "Invalid input"


class NotAuthenticated(DomainError):
    status, code, title = 401, "not-authenticated", "Not authenticated"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class RateLimited(DomainError):
    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"
