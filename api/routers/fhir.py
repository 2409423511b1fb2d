"""FHIR R4 under /fhir/R4: read, vread, history, search, writes, `$everything` and the CapabilityStatement.

A FHIR client expects errors on this base path as `OperationOutcome` resources, not problem+json.
FastAPI's exception handlers are per application, so rather than a sub-application (which would need
its own lifespan, middleware and authentication wiring) every route here uses `FhirRoute`: it wraps the
route's handler, dependencies included (so a missing token is an OperationOutcome 401 too), and renders
any domain or validation error as an OperationOutcome with the same HTTP status. A catch-all route
answers unknown paths and methods under the base the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException

from api.deps import FhirPrincipal, SessionDep, SettingsDep
from api.problems import REDIS_RETRY_AFTER_S
from api.refusal_audit import record_refusal
from api.routers.documents import StorageDep
from clinical import fhir
from clinical.fhir import (
    EVERYTHING_LIMIT_PER_TYPE,
    FHIR_MEDIA_TYPE,
    FORMAT_PARAMETER,
    JSON_FORMATS,
    FhirAnswer,
    FhirContext,
    InvalidResource,
    InvalidSearch,
    UnsupportedMediaType,
    check_accept,
    check_format,
    operation_outcome,
)
from core.errors import DomainError, NotFound, RateLimited
from core.principal import Principal
from core.settings import Settings
from realtime import subscriptions

BASE_PATH = "/fhir/R4"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
log = logging.getLogger(__name__)


class FhirResponse(JSONResponse):
    media_type = FHIR_MEDIA_TYPE


def outcome_response(
    status: int, diagnostics: str, *, error_code: str | None = None, retry_after_s: int | None = None
) -> FhirResponse:
    """An OperationOutcome answered with `status`."""
    headers = {"WWW-Authenticate": 'Bearer realm="ownat"'} if status == 401 else None
    if retry_after_s is not None:
        headers = {"Retry-After": str(retry_after_s)}
    body = operation_outcome(status=status, diagnostics=diagnostics, error_code=error_code)
    return FhirResponse(body, status_code=status, headers=headers)


class FhirFailure(Exception):
    """An error already rendered as an OperationOutcome, raised on past the request's unit of work.

    Raising (rather than returning the answer) lets the session dependency see the failure and roll
    back what the request flushed; the app's handler for this exception then sends `response`.
    """

    def __init__(self, response: FhirResponse, code: str) -> None:
        super().__init__(code)
        self.response = response
        self.code = code  # the audit log names the error of a failed transaction by its code


class FhirRoute(APIRoute):
    """A route whose errors, from dependencies or the endpoint, are answered as OperationOutcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                check_accept(request.headers.get("accept"))
                return await handler(request)
            except DomainError as error:
                retry_after_s = error.retry_after_s if isinstance(error, RateLimited) else None
                answer = outcome_response(
                    error.status, error.detail, error_code=error.code, retry_after_s=retry_after_s
                )
                raise FhirFailure(answer, error.code) from error
            except RequestValidationError as error:
                details = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors()
                )
                raise FhirFailure(
                    outcome_response(400, f"The request is not valid: {details}"), "invalid"
                ) from error
            except HTTPException as error:
                detail = (
                    error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
                )
                raise FhirFailure(outcome_response(error.status_code, detail), "http-error") from error
            except FhirFailure:
                raise
            except RedisError as error:
                # Sessions cannot be checked: refused for now, as on the other routes (api.problems).
                answer = outcome_response(503, "The server cannot check sessions now; try again shortly.")
                answer.headers["Retry-After"] = str(REDIS_RETRY_AFTER_S)
                raise FhirFailure(answer, "unavailable") from error
            except Exception as error:
                # A bug, not the client's doing: logged with the request id, answered in FHIR's own form.
                log.exception("unhandled error under %s", BASE_PATH, extra={"path": request.url.path})
                answer = outcome_response(
                    500, "The server failed to handle this request; it has been logged."
                )
                raise FhirFailure(answer, "internal-error") from error

        return handle


async def _send_failure(request: Request, error: Exception) -> Response:
    assert isinstance(error, FhirFailure)
    cause = error.__cause__
    if isinstance(cause, DomainError) and cause.status in (401, 403):
        await record_refusal(request, cause)
    return error.response


def install(app: FastAPI) -> None:
    """Answers the FHIR routes' failures as the OperationOutcomes they carry."""
    app.add_exception_handler(FhirFailure, _send_failure)


router = APIRouter(
    prefix=BASE_PATH, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)
# FHIR clients fetch the CapabilityStatement before they authenticate: the app mounts this router
# without the authentication dependency.
public_router = APIRouter(
    prefix=BASE_PATH, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + BASE_PATH


def _read_options(request: Request) -> None:
    # A read takes no search parameters; anything but `_format` is refused rather than ignored.
    for key, value in request.query_params.multi_items():
        if key != FORMAT_PARAMETER:
            raise InvalidSearch(f"The parameter '{key}' is not supported on a read.")
        check_format(value)


@router.post("", summary="A batch or transaction Bundle")
async def batch_or_transaction(
    request: Request,
    principal: FhirPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> FhirResponse:
    ctx = _write_context(request, principal, session, settings, storage)
    body = await fhir.process_bundle(ctx, await _resource_body(request))
    return FhirResponse(body)


@public_router.get("/metadata", summary="The CapabilityStatement: what this server implements")
async def metadata(request: Request) -> FhirResponse:
    _read_options(request)
    statement = fhir.capability_statement(
        base_url=_base_url(request),
        extra_resources=[*subscriptions.subscription_resources(), fhir.GROUP_RESOURCE],
        operations=[fhir.SYSTEM_EXPORT],
        type_operations={"Patient": [fhir.PATIENT_EXPORT]},
        instantiates=[fhir.INSTANTIATES, subscriptions.INSTANTIATES],
    )
    return FhirResponse(statement)


@router.get("/Patient/{patient_id}/$everything", summary="Everything about one patient, as a Bundle")
async def patient_everything(
    patient_id: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> FhirResponse:
    body = await fhir.patient_everything(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        patient_id=patient_id,
        query=request.query_params.multi_items(),
        limit_per_type=EVERYTHING_LIMIT_PER_TYPE,
    )
    return FhirResponse(body)


def answer(result: FhirAnswer, request: Request) -> Response:
    """The response of an interaction: its body and version headers, or 304 when the client's copy is current."""
    headers: dict[str, str] = {}
    if result.tag is not None:
        headers = {"ETag": result.tag.etag, "Last-Modified": result.tag.last_modified}
        if request.method == "GET" and _matches(request.headers.get("if-none-match"), result.tag.etag):
            return Response(status_code=304, headers=headers)
    if result.location is not None:
        headers["Location"] = result.location
    if result.body is None:
        return Response(status_code=result.status, headers=headers)
    return FhirResponse(result.body, status_code=result.status, headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    offered = {tag.strip() for tag in header.split(",")}
    # Weak comparison (RFC 9110): W/"2" and "2" name the same version.
    return "*" in offered or etag in offered or etag.removeprefix("W/") in offered


@router.get("/{resource_type}/_history", summary="The stored versions of a type, newest first")
async def type_history(
    resource_type: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> FhirResponse:
    body = await fhir.type_history(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        query=request.query_params.multi_items(),
    )
    return FhirResponse(body)


@router.get("/{resource_type}/{resource_id}/_history", summary="The stored versions of a resource")
async def instance_history(
    resource_type: str, resource_id: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> FhirResponse:
    body = await fhir.instance_history(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        resource_id=resource_id,
        query=request.query_params.multi_items(),
    )
    return FhirResponse(body)


@router.get("/{resource_type}/{resource_id}/_history/{version_id}", summary="One version of a resource")
async def vread(
    resource_type: str,
    resource_id: str,
    version_id: str,
    request: Request,
    principal: FhirPrincipal,
    session: SessionDep,
) -> Response:
    _read_options(request)
    result = await fhir.vread(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        resource_id=resource_id,
        version_id=version_id,
    )
    return answer(result, request)


@router.get("/{resource_type}/{resource_id}", summary="Read one resource")
async def read(
    resource_type: str, resource_id: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> Response:
    _read_options(request)
    result = await fhir.read_resource(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        resource_id=resource_id,
    )
    return answer(result, request)


@router.get("/{resource_type}", summary="Search resources of one type")
async def search(
    resource_type: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> FhirResponse:
    body = await fhir.search_resources(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        query=request.query_params.multi_items(),
    )
    return FhirResponse(body)


@router.post("/{resource_type}/_search", summary="Search resources of one type (form-encoded criteria)")
async def search_by_post(
    resource_type: str, request: Request, principal: FhirPrincipal, session: SessionDep
) -> FhirResponse:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise UnsupportedMediaType(f"Send the search criteria as {FORM_MEDIA_TYPE}.")
    try:
        form = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidSearch("The form body is not UTF-8.") from None
    body = await fhir.search_resources(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        resource_type=resource_type,
        query=[*request.query_params.multi_items(), *form],
    )
    return FhirResponse(body)


async def _resource_body(request: Request) -> Any:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_FORMATS:
        raise UnsupportedMediaType("Send the resource as application/fhir+json.")
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidResource(f"The body is not JSON: {error}.") from None


def _write_context(
    request: Request, principal: Principal, session: AsyncSession, settings: Settings, storage: Any
) -> FhirContext:
    return fhir.write_context(
        session=session,
        principal=principal,
        base_url=_base_url(request),
        storage=storage,
        document_max_bytes=settings.document_max_bytes,
    )


@router.post("/{resource_type}", summary="Create a resource (If-None-Exist: create only if none matches)")
async def create(
    resource_type: str,
    request: Request,
    principal: FhirPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Response:
    result = await fhir.create_resource(
        ctx=_write_context(request, principal, session, settings, storage),
        resource_type=resource_type,
        body=await _resource_body(request),
        if_none_exist=request.headers.get("if-none-exist"),
    )
    return answer(result, request)


@router.put(
    "/{resource_type}/{resource_id}", summary="Update a resource (If-Match: only its current version)"
)
async def update(
    resource_type: str,
    resource_id: str,
    request: Request,
    principal: FhirPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Response:
    result = await fhir.update_resource(
        ctx=_write_context(request, principal, session, settings, storage),
        resource_type=resource_type,
        resource_id=resource_id,
        body=await _resource_body(request),
        if_match=request.headers.get("if-match"),
    )
    return answer(result, request)


@router.delete("/{resource_type}/{resource_id}", summary="Delete a resource where the record allows it")
async def delete(
    resource_type: str,
    resource_id: str,
    request: Request,
    principal: FhirPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> Response:
    result = await fhir.delete_resource(
        ctx=_write_context(request, principal, session, settings, storage),
        resource_type=resource_type,
        resource_id=resource_id,
        if_match=request.headers.get("if-match"),
    )
    return answer(result, request)


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def unsupported(path: str, request: Request) -> FhirResponse:
    if request.method != "GET":
        return outcome_response(405, f"{request.method} is not supported on {BASE_PATH}/{path}.")
    raise NotFound(f"There is nothing at {BASE_PATH}/{path}.")
