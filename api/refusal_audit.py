"""Refusals that no service recorded: role checks, and unauthenticated calls to routes that need a user.

A service that refuses through `core.access` (or records the attempt itself) queues its entry in the
request's unit of work, which `core.sessions.transaction` writes through the rollback, naming the
error, and then marks the error as audited. Any other 403 (e.g. `require_roles` in `api.deps`, which runs before a service
is reached) is recorded here, once, with the caller, the route and the request id.

401s are recorded for every route that needs a signed-in user, except the sign-in routes (which
audit their own failures). They cost nothing to send, so they are rate-limited per client address
and route: at most `UNAUTHENTICATED_ENTRIES` entries per `UNAUTHENTICATED_WINDOW_S`, so that a
flood of anonymous requests cannot fill the log (the rest are counted in the access log only).
"""

from __future__ import annotations

import logging
import uuid

from fastapi import Request

from core import audit
from core.audit import client_address_var
from core.errors import DomainError
from core.principal import Principal
from core.resources import Resources
from core.sessions import transaction

log = logging.getLogger(__name__)

# Set on a Forbidden whose refusal is already on the record (by core.sessions.transaction).
AUDITED_FLAG = "audited"
UNAUTHENTICATED_ENTRIES = 3
UNAUTHENTICATED_WINDOW_S = 60
# Sign-in, refresh and the account flows record their own failures, with what was tried.
SELF_AUDITED_PREFIXES = ("/api/v1/auth/",)


async def record_refusal(request: Request, error: DomainError) -> None:
    """Records a 403 or 401 that is not on the record yet; never fails the response."""
    try:
        if error.status == 403 and not getattr(error, AUDITED_FLAG, False):
            await _write(request, error, actor=getattr(request.state, "principal", None))
        elif error.status == 401 and _needs_a_user(request) and await _within_budget(request):
            await _write(request, error, actor=None)
    except Exception:
        # The refusal stands whether or not it could be written; the failure is logged with its id.
        log.exception("could not audit a refused request")


def _needs_a_user(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(SELF_AUDITED_PREFIXES) and request.scope.get("route") is not None


def _route(request: Request) -> str:
    """The route's template under its full path (`/api/v1/patients/{patient_id}`): ids would make
    every request a route of its own, for the rate limit as for whoever reads the log."""
    route_path = getattr(request.scope.get("route"), "path", None)
    if not route_path:
        return request.url.path
    # The matched route knows its path below the routers it was included in, not their prefixes.
    url_parts = request.url.path.rstrip("/").split("/")
    tail = len(route_path.rstrip("/").split("/")) - 1
    prefix = "/".join(url_parts[: len(url_parts) - tail]) if 0 < tail <= len(url_parts) - 1 else ""
    return prefix.rstrip("/") + route_path


async def _within_budget(request: Request) -> bool:
    resources: Resources = request.app.state.resources
    address = client_address_var.get() or "unknown"
    decision = await resources.rate_limiter.hit(
        f"audit-401:{address}:{_route(request)}",
        limit=UNAUTHENTICATED_ENTRIES,
        window_s=UNAUTHENTICATED_WINDOW_S,
    )
    return decision.allowed


def _patient_of(request: Request) -> uuid.UUID | None:
    value = request.path_params.get("patient_id")
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


async def _write(request: Request, error: DomainError, *, actor: Principal | None) -> None:
    resources: Resources = request.app.state.resources
    async with transaction(resources.sessions) as session:
        audit.record(
            session,
            actor=actor,
            action="access",
            resource_type="route",
            resource_id=f"{request.method} {_route(request)}",
            patient_id=_patient_of(request),
            outcome="denied",
            detail={"path": request.url.path, "status": error.status, "reason": error.detail[:200]},
        )
