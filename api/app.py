"""The application factory: one FastAPI app per call, owning its resources through the lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Security
from prometheus_client import CollectorRegistry

from api import docs_page, health, pages, ws, ws_consult
from api.control_characters import ControlCharacterMiddleware
from api.cors import SmartCorsMiddleware
from api.deps import get_current_principal, get_fhir_principal
from api.middleware import BodySizeLimitMiddleware, HttpMetrics, RequestContextMiddleware
from api.openapi import DOCUMENTED_BEARER, install_openapi
from api.pcd_http import start_pcd_http
from api.problems import install_problem_handlers
from api.response_headers import ResponseHeadersMiddleware
from api.route_index import install_route_index
from api.routers import (
    account,
    alarms,
    analytics,
    audit,
    auth,
    billing,
    billing_insurance,
    billing_invoices,
    billing_office,
    billing_payments,
    billing_reports,
    codes,
    consult_peers,
    consults,
    devices,
    directory,
    documents,
    encounters,
    fhir,
    fhir_bulk,
    fhir_subscriptions,
    lab,
    messages,
    my_data,
    notifications,
    observation_charting,
    organisation,
    patients,
    scheduling,
    smart,
    smart_apps,
    system,
    users,
    vitals,
)
from core.resources import Resources
from core.settings import Settings, load_settings
from core.webhook_targets import normalised_hosts
from devices.registry import broker_access_from, load_broker_settings
from notifications import NotificationSettings, load_notification_settings
from realtime.hub import HubMetrics

API_PREFIX = "/api/v1"
DOCUMENT_UPLOAD_PATH = re.compile(rf"{API_PREFIX}/patients/[0-9a-fA-F-]{{36}}/documents")
# Messages carry attachments (at most one document's worth in all).
MESSAGE_POST_PATH = re.compile(rf"{API_PREFIX}/message-threads(/[0-9a-fA-F-]{{36}}/messages)?")


def create_app(
    settings: Settings | None = None, *, notification_settings: NotificationSettings | None = None
) -> FastAPI:
    """Builds the app; resources are opened when it starts and closed when it stops."""
    settings = settings or load_settings()
    notification_settings = notification_settings or load_notification_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.resources = Resources.open(settings)
        # The platform administers the production broker's device accounts when given its admin URL.
        app.state.device_broker_access = broker_access_from(load_broker_settings())
        await ws.start_hub(app)
        await ws_consult.start_consult(app)
        consult_peers.start_peers(app)
        pcd = await start_pcd_http(app, settings)
        await fhir_subscriptions.start_dispatcher(app)
        try:
            yield
        finally:
            await fhir_subscriptions.stop_dispatcher(app)
            await pcd.aclose()
            await ws_consult.stop_consult(app)
            await consult_peers.stop_peers(app)
            await ws.stop_hub(app)
            if app.state.device_broker_access is not None:
                await app.state.device_broker_access.drain()
            await app.state.resources.close()

    app = FastAPI(
        title="Ownat",
        summary="Telehealth and medical-device realtime platform",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by api.docs_page instead: FastAPI's page loads Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry support would trace every request as soon as any tracer
        # provider is global, beside the spans core.tracing makes (api.middleware), and it asks
        # whether one is on each request. Ours are the only ones.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.metrics_registry = CollectorRegistry()
    # Registered once per app: the hubs `ws.start_hub` starts on it in turn all count into these.
    app.state.hub_metrics = HubMetrics(app.state.metrics_registry)
    app.state.webhook_allowed_hosts = normalised_hosts(notification_settings.webhook_allowed_hosts)
    install_problem_handlers(app)
    # Multipart framing adds a little to the file itself; the service enforces the exact limit.
    upload_limit = settings.document_max_bytes + 64 * 1024
    # Inside the size limit, so that the bodies it reads are already capped.
    app.add_middleware(ControlCharacterMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        larger_limits={DOCUMENT_UPLOAD_PATH: upload_limit, MESSAGE_POST_PATH: upload_limit},
    )
    # Browser apps on other origins call FHIR and the token endpoint (bearer tokens, no cookies).
    app.add_middleware(SmartCorsMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=HttpMetrics(app.state.metrics_registry),
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    # Outermost, so that every answer has them, the 500s of the request context included.
    https = notification_settings.public_url.startswith("https://")
    app.add_middleware(ResponseHeadersMiddleware, https=https)
    _include_routers(app)
    install_route_index(app)
    install_openapi(app)
    return app


def _include_routers(app: FastAPI) -> None:
    # Public endpoints are listed here, explicitly; everything else requires a signed-in user.
    app.include_router(health.router)
    app.include_router(pages.router)
    app.include_router(docs_page.router)
    app.include_router(consult_peers.pages_router)
    # The live hub authenticates with the socket's first message, not with a header.
    app.include_router(ws.router)
    app.include_router(ws_consult.router)
    # FHIR subscriptions' websocket: bound by the token of `$get-ws-binding-token`, its first frame.
    app.include_router(fhir_subscriptions.socket_router)
    app.include_router(auth.public_router, prefix=API_PREFIX)
    app.include_router(account.public_router, prefix=API_PREFIX)
    # The payment gateway's webhook: no user, a signature checked by the endpoint instead.
    app.include_router(billing_payments.public_router, prefix=API_PREFIX)
    # A guest redeems an invitation link before having any session.
    app.include_router(consults.public_router, prefix=API_PREFIX)
    # DOCUMENTED_BEARER declares the bearer scheme on these operations in the OpenAPI document.
    authenticated = APIRouter(
        prefix=API_PREFIX, dependencies=[Depends(get_current_principal), Security(DOCUMENTED_BEARER)]
    )
    for module in (
        auth,
        account,
        users,
        audit,
        patients,
        organisation,
        scheduling,
        encounters,
        lab,
        documents,
        messages,
        my_data,
        devices,
        vitals,
        alarms,
        observation_charting,
        analytics,
        billing,
        billing_invoices,
        billing_payments,
        billing_insurance,
        billing_reports,
        billing_office,
        codes,
        directory,
        notifications,
        system,
        consult_peers,
        consults,
        smart_apps,
    ):
        authenticated.include_router(module.router)
    app.include_router(authenticated)
    # FHIR clients read the CapabilityStatement before they sign in; it holds nothing about patients.
    app.include_router(fhir.public_router)
    # SMART on FHIR: discovery and the OAuth endpoints are public; they authenticate apps themselves.
    app.include_router(smart.router)
    # Before the generic FHIR routes, whose /{type}/{id} would otherwise take these paths.
    # Subscriptions take app tokens too: their scopes are checked, and kept to filter every event.
    fhir_caller = [Depends(get_fhir_principal), Security(DOCUMENTED_BEARER)]
    app.include_router(fhir_subscriptions.router, dependencies=fhir_caller)
    app.include_router(fhir_bulk.router, dependencies=fhir_caller)
    app.include_router(fhir_bulk.files_router, dependencies=fhir_caller)
    app.include_router(fhir.router, dependencies=fhir_caller)
    fhir.install(app)
