"""Where a request came from, set by the API middleware and read when an audit entry is recorded."""

from __future__ import annotations

from contextvars import ContextVar

client_address_var: ContextVar[str | None] = ContextVar("client_address", default=None)
