"""SMART App Launch's public endpoints: discovery, `/oauth/authorize`, token, revocation, introspection.

These speak OAuth 2, not problem+json: errors are `{"error", "error_description"}` (RFC 6749), and
the authorisation endpoint reports to the app at its verified redirect URI. Each is rate-limited per
client and per address, and every grant, refusal and revocation is audited.
"""

from __future__ import annotations

import base64
import html
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import ResourcesDep, SessionDep
from clinical.fhir import fhir_user_reference
from core import identity
from core.audit import client_address_var
from core.errors import NotAuthenticated
from core.identity import OAuthError, public_jwks
from core.principal import Principal, Role
from core.resources import Resources

FHIR_BASE_PATH = "/fhir/R4"
CONSENT_PAGE = "/oauth/consent/"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

router = APIRouter(include_in_schema=False)


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _endpoint(request: Request) -> identity.TokenEndpoint:
    origin = _origin(request)
    return identity.TokenEndpoint(
        token_url=f"{origin}/oauth/token", fhir_base_url=f"{origin}{FHIR_BASE_PATH}"
    )


def _oauth_answer(error: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="ownat"'
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def _throttle(resources: Resources, client_id: str | None) -> None:
    """429 once a client, or an address, passes its budget of OAuth requests in the window."""
    settings = resources.settings
    keys = [f"smart:client:{client_id}"] if client_id else []
    address = client_address_var.get()
    if address:
        keys.append(f"smart:address:{address}")
    for key in keys:
        decision = await resources.rate_limiter.hit(
            key, limit=settings.smart_requests_per_client, window_s=settings.smart_window_s
        )
        if not decision.allowed:
            raise OAuthError(
                "slow_down",
                "Too many requests; wait before trying again.",
                status=429,
                retry_after_s=decision.retry_after_s,
            )


@router.get("/.well-known/smart-configuration")
@router.get(f"{FHIR_BASE_PATH}/.well-known/smart-configuration")
async def smart_configuration(request: Request) -> JSONResponse:
    """What this server supports of SMART App Launch, exactly."""
    return JSONResponse(identity.smart_configuration(origin=_origin(request), fhir_base_path=FHIR_BASE_PATH))


@router.get("/oauth/jwks")
async def jwks(resources: ResourcesDep) -> JSONResponse:
    """The public key id_tokens are signed with."""
    return JSONResponse(public_jwks(resources.settings))


async def _params(request: Request) -> dict[str, str]:
    if request.method == "POST":
        form = await request.form()
        return {key: value for key, value in form.items() if isinstance(value, str)}
    return dict(request.query_params)


@router.get("/oauth/authorize")
@router.post("/oauth/authorize", operation_id="oauth_authorize_post")
async def authorize_endpoint(request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    """Checks the app's request and hands the user to the consent page (or the app its error)."""
    params = await _params(request)
    try:
        await _throttle(resources, params.get("client_id"))
        pending = await identity.start_authorization(
            session=session,
            request=identity.AuthorizeRequest(
                response_type=params.get("response_type"),
                client_id=params.get("client_id"),
                redirect_uri=params.get("redirect_uri"),
                scope=params.get("scope"),
                state=params.get("state"),
                aud=params.get("aud"),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
                launch=params.get("launch"),
                nonce=params.get("nonce"),
            ),
            fhir_base_url=_endpoint(request).fhir_base_url,
            settings=resources.settings,
        )
    except identity.AuthorizeRedirect as redirect:
        return RedirectResponse(redirect.url, status_code=302)
    except OAuthError as error:
        # Never redirect to an address the app did not register: tell the person instead.
        page = (
            "<!doctype html><meta charset=utf-8><title>App sign-in refused</title>"
            f"<h1>This app's sign-in request was refused</h1><p>{html.escape(error.description)}</p>"
        )
        return HTMLResponse(page, status_code=error.status, headers=NO_STORE)
    return RedirectResponse(f"{CONSENT_PAGE}?request={pending.id}", status_code=302)


def _credentials(request: Request, form: dict[str, str]) -> identity.ClientCredentials:
    """The client's credentials from HTTP Basic (client_secret_basic) or the form."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "The Basic credentials are not base64.", status=401) from None
        basic_id, _, basic_secret = decoded.partition(":")
        client_id, secret = unquote(basic_id), unquote(basic_secret)
    return identity.ClientCredentials(
        client_id=client_id,
        client_secret=secret,
        assertion_type=form.get("client_assertion_type"),
        assertion=form.get("client_assertion"),
    )


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.")
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _client(request: Request, session: AsyncSession, resources: Resources, form: dict[str, str]) -> Any:
    credentials = _credentials(request, form)
    await _throttle(resources, credentials.client_id)
    return await identity.authenticate_client(
        session, credentials, token_url=_endpoint(request).token_url, used=resources.revocations
    )


@router.post("/oauth/token")
async def token(request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    """authorization_code (with PKCE), refresh_token and client_credentials."""
    settings = resources.settings

    async def fhir_user(principal: Principal) -> str | None:
        return await fhir_user_reference(session, principal)

    try:
        form = await _form(request)
        app = await _client(request, session, resources, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = await identity.exchange_code(
                session=session,
                app=app,
                code=form.get("code", ""),
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
                settings=settings,
                endpoint=_endpoint(request),
                fhir_user=fhir_user,
            )
        elif grant_type == "refresh_token":
            body = await identity.exchange_refresh_token(
                session=session,
                app=app,
                refresh_token=form.get("refresh_token", ""),
                scope=form.get("scope"),
                settings=settings,
                endpoint=_endpoint(request),
                fhir_user=fhir_user,
                revocations=resources.revocations,
            )
        elif grant_type == "client_credentials":
            body = await identity.client_credentials(
                session=session, app=app, scope=form.get("scope"), settings=settings
            )
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")
    except OAuthError as error:
        return _oauth_answer(error)
    return JSONResponse(body, headers=NO_STORE)


@router.post("/oauth/revoke")
async def revoke(request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    """RFC 7009: a refresh token ends its grant; an access token ends itself. Always 200."""
    try:
        form = await _form(request)
        app = await _client(request, session, resources, form)
        await identity.revoke_token(
            session=session,
            app=app,
            token=form.get("token", ""),
            settings=resources.settings,
            revocations=resources.revocations,
        )
    except OAuthError as error:
        return _oauth_answer(error)
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oauth/introspect")
async def introspect(request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    """RFC 7662, for the token's own client (authenticated) or an administrator (bearer token)."""
    try:
        form = await _form(request)
        client_id = await _introspecting_client(request, session, resources, form)
        body = await identity.introspect_token(
            session=session,
            token=form.get("token", ""),
            client_id=client_id,
            settings=resources.settings,
            revocations=resources.revocations,
        )
    except OAuthError as error:
        return _oauth_answer(error)
    return JSONResponse(body, headers=NO_STORE)


async def _introspecting_client(
    request: Request, session: AsyncSession, resources: Resources, form: dict[str, str]
) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        try:
            principal = await identity.authenticate_access_token(
                value.strip(), settings=resources.settings, revocations=resources.revocations
            )
        except NotAuthenticated:
            raise OAuthError("invalid_client", "The bearer token is invalid.", status=401) from None
        if principal.role is not Role.ADMIN:
            raise OAuthError(
                "invalid_client", "Only administrators introspect with a bearer token.", status=401
            )
        return None
    app = await _client(request, session, resources, form)
    return str(app.client_id)
