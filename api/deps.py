"""Injectable dependencies: the one place routers get sessions, settings and the caller from."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from core import identity
from core.access import require_patient_scope
from core.errors import Forbidden, NotAuthenticated, RateLimited
from core.identity import authenticate_fhir_token
from core.principal import STAFF_ROLES, Principal, Role
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings


# The dependencies below are `async def` although they never await: FastAPI runs a plain `def`
# dependency in its thread pool, two thread hand-offs for a function returning an attribute.
async def get_resources(request: Request) -> Resources:
    return request.app.state.resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed before the response is sent, rolled back on error."""
    async with transaction(resources.sessions) as session:
        yield session


# scope="function": the commit happens when the endpoint returns, before the client hears "done".
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def bearer_token(request: Request) -> str:
    """The access token from `Authorization: Bearer ...`; tokens in URLs are not accepted."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    return token.strip()


async def get_current_principal(request: Request, resources: ResourcesDep) -> Principal:
    """The authenticated caller, from a valid, unexpired and unrevoked access token."""
    principal = await identity.authenticate_access_token(
        await bearer_token(request), settings=resources.settings, revocations=resources.revocations
    )
    # Named in the audit entry of a refusal that no service recorded (api.refusal_audit).
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


async def get_fhir_principal(request: Request, resources: ResourcesDep) -> Principal:
    """The caller on the FHIR API: a SMART app's token (whose `grant` narrows it) or an Ownat token.

    Only FHIR routes use this: an app's token is refused everywhere else. Each app has a budget of
    requests per window (`OWNAT_SMART_FHIR_REQUESTS_PER_APP`), then gets 429."""
    settings = resources.settings
    principal = await authenticate_fhir_token(
        await bearer_token(request), settings=settings, revocations=resources.revocations
    )
    if principal.grant is not None:
        decision = await resources.rate_limiter.hit(
            f"smart:fhir:{principal.grant.client_id}",
            limit=settings.smart_fhir_requests_per_app,
            window_s=settings.smart_window_s,
        )
        if not decision.allowed:
            raise RateLimited(
                "This app made too many FHIR requests; wait before trying again.",
                retry_after_s=decision.retry_after_s,
            )
    return principal


FhirPrincipal = Annotated[Principal, Depends(get_fhir_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only callers holding one of `roles`."""
    allowed = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(f"This action needs one of the roles: {names}.")
        return principal

    return check


StaffPrincipal = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
CareStaffPrincipal = Annotated[Principal, Depends(require_roles(Role.CLINICIAN, Role.NURSE))]
ClinicianPrincipal = Annotated[Principal, Depends(require_roles(Role.CLINICIAN))]


async def patient_in_scope(
    patient_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> uuid.UUID:
    """The path's patient, if the caller may see them: their own record, or any record for staff."""
    require_patient_scope(
        session, principal, patient_id, action="access", resource_type="patient", resource_id=patient_id
    )
    return patient_id


PatientInScope = Annotated[uuid.UUID, Depends(patient_in_scope)]
