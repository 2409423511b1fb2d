"""Subscriptions as a client manages them: create, read, search, delete, `$status`, `$events`, binding tokens.

Whoever creates a subscription owns it: only they (or an administrator) read, delete or bind it,
and its events are what they may read. A patient subscribes to their own record only; staff to any
patient, and to a ward for the live topics. Every access is audited, refusals included.

A SMART app is narrowed further by its scopes (the rule is in `grants`): it needs them on
Subscription and on the topic's focus type, a patient/ scope keeps it to its launch patient, the
subscription keeps its grant, and the app sees only the subscriptions it created.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir import InvalidResource
from clinical.organisation import Ward
from clinical.patients import Patient
from core import audit
from core.access import refuse
from core.db import utc_now
from core.errors import Conflict, NotAuthenticated, NotFound
from core.principal import Interaction, Principal, Role
from core.settings import Settings
from realtime.subscriptions.bundles import EventItem, notification_bundle, status_bundle, subscription_status
from realtime.subscriptions.endpoints import require_endpoint
from realtime.subscriptions.grants import (
    confinement,
    end_within_grant,
    grant_columns,
    refuse_beyond_launch,
    require_focus,
    require_scope,
    visible,
)
from realtime.subscriptions.models import FhirSubscription, FhirSubscriptionEvent
from realtime.subscriptions.record import queue_delivery
from realtime.subscriptions.resource import SubscriptionSpec, parse_subscription, subscription_resource
from realtime.subscriptions.topics import topic_by_url

TOKEN_TYPE = "fhir-ws"  # noqa: S105 (a claim value, not a secret)
MAX_EVENTS_PER_QUERY = 1000
# Each live subscription costs every api instance work per event: a client may not hold many.
MAX_SUBSCRIPTIONS_PER_OWNER = 50


async def create_subscription(
    *, session: AsyncSession, principal: Principal, settings: Settings, base_url: str, body: Any
) -> dict[str, Any]:
    """Checks and stores a Subscription; a rest-hook is `requested` until its handshake is delivered."""
    require_scope(session, principal, Interaction.CREATE, action="create")
    spec = parse_subscription(body)
    require_focus(session, principal, spec.topic.resource_type, action="create", patient_id=spec.patient_id)
    await _check_target(session, principal, spec)
    owned = await session.scalar(
        select(func.count()).where(FhirSubscription.owner_user_id == principal.user_id)
    )
    if (owned or 0) >= MAX_SUBSCRIPTIONS_PER_OWNER:
        raise Conflict(f"You hold {MAX_SUBSCRIPTIONS_PER_OWNER} subscriptions already; delete one first.")
    if spec.endpoint is not None:
        await require_endpoint(spec.endpoint, allow_private=settings.fhir_hooks_allow_private)
    row = FhirSubscription(
        id=uuid.uuid4(),
        topic=spec.topic.url,
        status="requested" if spec.channel_type == "rest-hook" else "active",
        patient_id=spec.patient_id,
        ward_id=spec.ward_id,
        criteria=spec.criteria,
        base_url=base_url,
        channel_type=spec.channel_type,
        endpoint=spec.endpoint,
        headers=spec.headers,
        content=spec.content,
        heartbeat_period_s=spec.heartbeat_period_s,
        secret=secrets.token_urlsafe(32),
        end_at=end_within_grant(principal, spec.end_at, access_token_ttl_s=settings.access_token_ttl_s),
        reason=spec.reason,
        owner_user_id=principal.user_id,
        owner_role=principal.role.value,
        owner_patient_id=principal.patient_id,
        **grant_columns(principal),
        events_since_start=0,
        created_at=utc_now(),
        updated_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    if row.channel_type == "rest-hook":
        queue_delivery(session, row, "handshake", _bundle(row, "handshake"))
    _audit(session, principal, "create", row)
    return subscription_resource(row, secret=True)


async def _check_target(session: AsyncSession, principal: Principal, spec: SubscriptionSpec) -> None:
    topic = spec.topic.key
    focus = spec.topic.resource_type
    confined = confinement(principal, focus)
    if spec.patient_id is not None:
        if confined is not None and confined != spec.patient_id:
            refuse_beyond_launch(
                session,
                principal,
                focus,
                launch_patient=confined,
                wanted=f"Patient/{spec.patient_id}",
                patient_id=spec.patient_id,
            )
        if not principal.may_access_patient(spec.patient_id, resource_type=focus):
            refuse(
                session,
                principal,
                action="fhir.subscription.create",
                resource_type="fhir.Subscription",
                patient_id=spec.patient_id,
                message="You may only subscribe to your own record.",
            )
        if await session.get(Patient, spec.patient_id) is None:
            raise InvalidResource(f"Subscription criteria filter: there is no Patient/{spec.patient_id}.")
    elif confined is not None:
        wanted = f"ward {spec.ward_id}" if spec.ward_id is not None else f"every patient's {topic}"
        refuse_beyond_launch(session, principal, focus, launch_patient=confined, wanted=wanted)
    elif not principal.is_staff:
        refuse(
            session,
            principal,
            action="fhir.subscription.create",
            resource_type="fhir.Subscription",
            patient_id=principal.patient_id,
            message=f"Subscribe to the {topic} topic with a filter on your own record (patient=Patient/<id>).",
        )
    if spec.ward_id is not None and await session.get(Ward, spec.ward_id) is None:
        raise InvalidResource(f"Subscription criteria filter: there is no ward {spec.ward_id}.")


def _bundle(row: FhirSubscription, kind: str, events: list[EventItem] | None = None) -> dict[str, Any]:
    return notification_bundle(
        base_url=row.base_url,
        subscription_id=row.id,
        topic=row.topic,
        status=row.status,
        kind=kind,
        events_since_start=row.events_since_start,
        events=events or [],
        content=row.content,
    )


def _audit(
    session: AsyncSession, principal: Principal, action: str, row: FhirSubscription, **detail: Any
) -> None:
    if principal.grant is not None:
        detail["client_id"] = principal.grant.client_id  # which app, beside whose account
    audit.record(
        session,
        actor=principal,
        action=f"fhir.subscription.{action}",
        resource_type="fhir.Subscription",
        resource_id=row.id,
        patient_id=row.patient_id,
        detail={"topic": row.topic, "ward_id": str(row.ward_id) if row.ward_id else None, **detail},
    )


async def owned_subscription(
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    *,
    action: str,
    interaction: Interaction = Interaction.READ,
) -> FhirSubscription:
    """The caller's subscription (any, for an administrator); 404 for others', audited as refused.
    An app needs the Subscription scope for `interaction` first (403, audited)."""
    require_scope(session, principal, interaction, action=action, resource_id=subscription_id)
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise NotFound(f"There is no Subscription with id '{subscription_id}'.") from None
    row = await session.get(FhirSubscription, key)
    if row is None:
        raise NotFound(f"There is no Subscription with id '{subscription_id}'.")
    if not visible(principal, row):
        audit.record(
            session,
            actor=principal,
            action=f"fhir.subscription.{action}",
            resource_type="fhir.Subscription",
            resource_id=row.id,
            patient_id=row.patient_id,
            outcome="denied",
        )
        # Someone else's subscription is not even confirmed to exist.
        raise NotFound(f"There is no Subscription with id '{subscription_id}'.")
    return row


async def read_subscription(
    *, session: AsyncSession, principal: Principal, subscription_id: str
) -> dict[str, Any]:
    row = await owned_subscription(session, principal, subscription_id, action="read")
    _audit(session, principal, "read", row)
    return subscription_resource(row)


async def search_subscriptions(*, session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """The caller's subscriptions (every one, for an administrator), as a searchset."""
    require_scope(session, principal, Interaction.SEARCH, action="search")
    query = select(FhirSubscription).order_by(FhirSubscription.created_at)
    if principal.role is not Role.ADMIN or principal.grant is not None:
        query = query.where(FhirSubscription.owner_user_id == principal.user_id)
    if principal.grant is not None:
        query = query.where(FhirSubscription.grant_client_id == principal.grant.client_id)
    rows = [row for row in await session.scalars(query) if visible(principal, row)]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(rows),
        "entry": [
            {
                "fullUrl": f"{row.base_url}/Subscription/{row.id}",
                "resource": subscription_resource(row),
                "search": {"mode": "match"},
            }
            for row in rows
        ],
    }


async def delete_subscription(*, session: AsyncSession, principal: Principal, subscription_id: str) -> None:
    row = await owned_subscription(
        session, principal, subscription_id, action="delete", interaction=Interaction.DELETE
    )
    _audit(session, principal, "delete", row)
    await session.delete(row)
    await session.flush()


async def subscription_status_of(
    *, session: AsyncSession, principal: Principal, subscription_id: str
) -> dict[str, Any]:
    """`$status`: a searchset holding the subscription's SubscriptionStatus."""
    row = await owned_subscription(session, principal, subscription_id, action="status")
    _audit(session, principal, "status", row)
    status = subscription_status(
        subscription_id=row.id,
        topic=row.topic,
        status=row.status,
        kind="query-status",
        events_since_start=row.events_since_start,
        error=row.error,
    )
    return status_bundle([status])


async def subscription_events(
    *,
    session: AsyncSession,
    principal: Principal,
    subscription_id: str,
    since: int | None,
    until: int | None,
    content: str | None,
) -> dict[str, Any]:
    """`$events`: the recorded events numbered in [since, until] still kept, as a `query-event` Bundle."""
    row = await owned_subscription(session, principal, subscription_id, action="events")
    topic = topic_by_url(row.topic)
    if topic is not None:
        # The events are focus resources: an app whose token no longer reads the type gets none.
        require_focus(
            session,
            principal,
            topic.resource_type,
            action="events",
            resource_id=row.id,
            patient_id=row.patient_id,
        )
    if content is not None and content not in ("empty", "id-only", "full-resource"):
        raise InvalidResource("content: must be empty, id-only or full-resource.")
    query = select(FhirSubscriptionEvent).where(FhirSubscriptionEvent.subscription_id == row.id)
    if since is not None:
        query = query.where(FhirSubscriptionEvent.number >= since)
    if until is not None:
        query = query.where(FhirSubscriptionEvent.number <= until)
    stored = list(
        await session.scalars(query.order_by(FhirSubscriptionEvent.number).limit(MAX_EVENTS_PER_QUERY))
    )
    events = [EventItem(item.number, item.occurred_at, item.focus, item.resource) for item in stored]
    _audit(session, principal, "events", row, count=len(events))
    return notification_bundle(
        base_url=row.base_url,
        subscription_id=row.id,
        topic=row.topic,
        status=row.status,
        kind="query-event",
        events_since_start=row.events_since_start,
        events=events,
        content=content or row.content,
    )


async def binding_token(
    *,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    subscription_id: str,
    websocket_url: str,
) -> dict[str, Any]:
    """`$get-ws-binding-token`: a short-lived token a websocket binds the subscription with."""
    row = await owned_subscription(session, principal, subscription_id, action="bind")
    if row.channel_type != "websocket":
        raise InvalidResource("This Subscription's channel is not a websocket.")
    expires_at = utc_now() + timedelta(seconds=settings.fhir_ws_token_ttl_s)
    claims = {
        "typ": TOKEN_TYPE,
        "sub": str(principal.user_id),
        "subscriptions": [str(row.id)],
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")
    _audit(session, principal, "token", row)
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "token", "valueString": token},
            {"name": "expiration", "valueDateTime": expires_at.isoformat()},
            {"name": "subscription", "valueString": str(row.id)},
            {"name": "websocket-url", "valueUrl": websocket_url},
        ],
    }


def read_binding_token(token: str, *, settings: Settings) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """The user and subscriptions a binding token names; NotAuthenticated when it is not valid now."""
    try:
        claims = jwt.decode(token, settings.secret_key.get_secret_value(), algorithms=["HS256"])
        if claims.get("typ") != TOKEN_TYPE:
            raise jwt.InvalidTokenError("not a binding token")
        return uuid.UUID(claims["sub"]), [uuid.UUID(item) for item in claims["subscriptions"]]
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError):
        raise NotAuthenticated("The binding token is invalid or expired.") from None


def handshake_bundle(row: FhirSubscription) -> dict[str, Any]:
    return _bundle(row, "handshake")


def heartbeat_bundle(row: FhirSubscription) -> dict[str, Any]:
    return _bundle(row, "heartbeat")
