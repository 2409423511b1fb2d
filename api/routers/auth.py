"""Sign-in, token refresh and sign-out; login and refresh are public. Sign-up and the other account
flows are in `account`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import CurrentPrincipal, ResourcesDep, SessionDep, SettingsDep
from api.problems import problem_response
from core import identity
from core.audit import client_address_var
from core.errors import NotAuthenticated
from core.identity import LoginRequest, LogoutRequest, RefreshRequest, TokenPair, UserRead

public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])


@public_router.post("/login", response_model=TokenPair, summary="Exchange email and password for tokens")
async def login(
    body: LoginRequest, request: Request, session: SessionDep, resources: ResourcesDep
) -> TokenPair:
    return await identity.authenticate_login(
        session=session,
        rate_limiter=resources.rate_limiter,
        settings=resources.settings,
        email=body.email,
        password=body.password,
        client_address=client_address_var.get(),
        user_agent=request.headers.get("user-agent"),
    )


@public_router.post("/refresh", response_model=TokenPair, summary="Rotate a refresh token for a new pair")
async def refresh(
    body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenPair | Response:
    outcome = await identity.rotate_refresh_token(
        session=session,
        settings=settings,
        refresh_token=body.refresh_token,
        client_address=client_address_var.get(),
        user_agent=request.headers.get("user-agent"),
    )
    if isinstance(outcome, NotAuthenticated):
        # Returned, not raised, so that the session commits the family's revocation (see the service).
        return problem_response(
            status=outcome.status,
            code=outcome.code,
            title=outcome.title,
            detail=outcome.detail,
            instance=request.url.path,
            headers={"WWW-Authenticate": 'Bearer realm="ownat"'},
        )
    return outcome


@router.post("/logout", status_code=204, summary="Revoke this access token and its refresh family")
async def logout(
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    body: LogoutRequest | None = None,
) -> None:
    await identity.logout(
        session=session,
        revocations=resources.revocations,
        settings=resources.settings,
        actor=principal,
        refresh_token=body.refresh_token if body else None,
    )


@router.get("/me", response_model=UserRead, summary="The signed-in user")
async def me(principal: CurrentPrincipal, session: SessionDep) -> UserRead:
    user = await identity.get_user(session=session, actor=principal, user_id=principal.user_id)
    return UserRead.model_validate(user)
