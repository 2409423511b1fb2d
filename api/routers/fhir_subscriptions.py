"""FHIR Subscriptions under /fhir/R4: SubscriptionTopic, Subscription, `$status`, `$events`,
`$get-ws-binding-token`, and the websocket channel's endpoint.

Mounted before `api.routers.fhir` so that its generic `/{type}/{id}` routes do not take these paths.
The websocket authenticates with its binding token (first frame), so it is mounted publicly.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response, WebSocket

from api.deps import FhirPrincipal, ResourcesDep, SessionDep, SettingsDep
from api.routers.fhir import BASE_PATH, FhirResponse, FhirRoute, outcome_response
from api.websocket_transport import serve_websocket
from clinical.fhir import InvalidResource, InvalidSearch
from core.bus import FHIR_SUBSCRIPTIONS_CHANGED, Bus, SubscriptionsChanged
from core.errors import NotFound
from realtime import subscriptions
from realtime.socket_wire import Transport
from realtime.subscriptions import (
    TOPICS,
    SubscriptionDispatcher,
    serve_socket,
    topic_by_key,
    topic_resource,
)

WEBSOCKET_PATH = f"{BASE_PATH}/subscription-ws"

# The FHIR API's caller: an Ownat token, or a SMART app's, whose scopes the services check
# (`realtime.subscriptions.grants`). The topics are the server's fixed catalogue, like its
# CapabilityStatement: any valid token reads them, no scope needed.
FhirCaller = FhirPrincipal

router = APIRouter(
    prefix=BASE_PATH, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)
socket_router = APIRouter()


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + BASE_PATH


async def _announce(bus: Bus) -> None:
    # After the response, so after the commit: every api instance reloads and sees the change.
    await bus.publish(FHIR_SUBSCRIPTIONS_CHANGED, SubscriptionsChanged())


@router.get("/SubscriptionTopic", summary="The topics one can subscribe to")
async def topics(principal: FhirCaller) -> FhirResponse:
    return FhirResponse(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(TOPICS),
            "entry": [{"resource": topic_resource(topic), "search": {"mode": "match"}} for topic in TOPICS],
        }
    )


@router.get("/SubscriptionTopic/{topic_id}", summary="One SubscriptionTopic")
async def topic(topic_id: str, principal: FhirCaller) -> FhirResponse:
    found = topic_by_key(topic_id)
    if found is None:
        raise NotFound(f"There is no SubscriptionTopic with id '{topic_id}'.")
    return FhirResponse(topic_resource(found))


@router.api_route("/SubscriptionTopic", methods=["POST", "PUT", "DELETE"], include_in_schema=False)
async def topics_are_read_only(request: Request) -> FhirResponse:
    return outcome_response(
        405, f"{request.method} is not supported on SubscriptionTopic: the topics are fixed."
    )


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidResource(f"The body is not JSON: {error}.") from None


@router.post("/Subscription", summary="Subscribe to a topic (rest-hook or websocket)", status_code=201)
async def create(
    request: Request,
    principal: FhirCaller,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
) -> FhirResponse:
    resource = await subscriptions.create_subscription(
        session=session,
        principal=principal,
        settings=settings,
        base_url=_base_url(request),
        body=await _json_body(request),
    )
    background.add_task(_announce, resources.bus)
    location = f"{_base_url(request)}/Subscription/{resource['id']}"
    return FhirResponse(resource, status_code=201, headers={"Location": location}, background=background)


@router.get("/Subscription", summary="The caller's subscriptions")
async def search(principal: FhirCaller, session: SessionDep) -> FhirResponse:
    return FhirResponse(await subscriptions.search_subscriptions(session=session, principal=principal))


@router.get("/Subscription/{subscription_id}", summary="One of the caller's subscriptions")
async def read(subscription_id: str, principal: FhirCaller, session: SessionDep) -> FhirResponse:
    return FhirResponse(
        await subscriptions.read_subscription(
            session=session, principal=principal, subscription_id=subscription_id
        )
    )


@router.delete("/Subscription/{subscription_id}", summary="Unsubscribe")
async def delete(
    subscription_id: str,
    principal: FhirCaller,
    session: SessionDep,
    resources: ResourcesDep,
    background: BackgroundTasks,
) -> Response:
    await subscriptions.delete_subscription(
        session=session, principal=principal, subscription_id=subscription_id
    )
    background.add_task(_announce, resources.bus)
    return Response(status_code=204, background=background)


@router.get("/Subscription/{subscription_id}/$status", summary="The subscription's SubscriptionStatus")
async def status(subscription_id: str, principal: FhirCaller, session: SessionDep) -> FhirResponse:
    return FhirResponse(
        await subscriptions.subscription_status_of(
            session=session, principal=principal, subscription_id=subscription_id
        )
    )


def _number(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidSearch(f"{name}: must be a whole number.")
    return int(value)


# One function for both methods, each with an operation id of its own (OpenAPI wants them unique).
@router.get("/Subscription/{subscription_id}/$events", summary="Recorded events")
@router.post(
    "/Subscription/{subscription_id}/$events",
    summary="Recorded events",
    operation_id="fhir_subscription_events_post",
)
async def events(
    subscription_id: str, request: Request, principal: FhirCaller, session: SessionDep
) -> FhirResponse:
    body = await subscriptions.subscription_events(
        session=session,
        principal=principal,
        subscription_id=subscription_id,
        since=_number(request, "eventsSinceNumber"),
        until=_number(request, "eventsUntilNumber"),
        content=request.query_params.get("content"),
    )
    return FhirResponse(body)


@router.get(
    "/Subscription/{subscription_id}/$get-ws-binding-token",
    summary="A token to bind a websocket to the subscription",
)
@router.post(
    "/Subscription/{subscription_id}/$get-ws-binding-token",
    summary="A token to bind a websocket to the subscription",
    operation_id="fhir_subscription_binding_token_post",
)
async def binding_token(
    subscription_id: str,
    request: Request,
    principal: FhirCaller,
    session: SessionDep,
    settings: SettingsDep,
) -> FhirResponse:
    scheme = "wss" if request.url.scheme == "https" else "ws"
    websocket_url = f"{scheme}://{request.url.netloc}{WEBSOCKET_PATH}"
    body = await subscriptions.binding_token(
        session=session,
        principal=principal,
        settings=settings,
        subscription_id=subscription_id,
        websocket_url=websocket_url,
    )
    return FhirResponse(body)


@socket_router.websocket(WEBSOCKET_PATH)
async def subscription_socket(websocket: WebSocket) -> None:
    """The websocket channel: send `bind-with-token <token>`, then receive notification Bundles."""
    dispatcher: SubscriptionDispatcher | None = getattr(websocket.app.state, "fhir_subscriptions", None)

    async def serve(running: SubscriptionDispatcher, transport: Transport) -> None:
        await serve_socket(transport, dispatcher=running, settings=websocket.app.state.resources.settings)

    await serve_websocket(websocket, dispatcher, serve, not_running="subscriptions are not running")


async def start_dispatcher(app: Any) -> SubscriptionDispatcher:
    """Starts the app's subscription dispatcher (call once the lifespan has opened the resources)."""
    resources = app.state.resources
    dispatcher = SubscriptionDispatcher(bus=resources.bus, sessions=resources.sessions)
    await dispatcher.start()
    app.state.fhir_subscriptions = dispatcher
    return dispatcher


async def stop_dispatcher(app: Any) -> None:
    dispatcher: SubscriptionDispatcher | None = getattr(app.state, "fhir_subscriptions", None)
    if dispatcher is not None:
        await dispatcher.stop()
