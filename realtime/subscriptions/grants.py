"""What a SMART app's grant allows a subscription, and whether that grant still stands.

The scope rule (Ownat's own tokens carry no grant and pass every check here): an app needs the
scope on Subscription for each interaction (create `c`; read, `$status`, `$events` and the binding
token `r`; search `s`; delete `d`) and, to create a subscription or read its events, read or search
on the topic's focus type (vital-signs Observation, alarms DetectedIssue, appointments Appointment,
lab-results DiagnosticReport), since every event is a focus resource. A patient/ scope on the focus
(or on Subscription) keeps the app to its launch patient: no other patient, no ward, no unfiltered
topic. Refusals are 403s naming the scope that is missing, audited through `core.access.refuse`.

A subscription keeps the grant it was created under (`grant_columns`); `record.owner_of` rebuilds
it, so events are filtered by its scopes when they are delivered, and `still_authorised` ends the
subscription when the grant ends.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Boolean, ColumnElement, String, Text, Uuid, and_, column, exists, or_, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import refuse
from core.db import UTCDateTime, utc_now
from core.identity import User
from core.principal import Interaction, Level, Principal, Role, SmartGrant
from realtime.subscriptions.models import FhirSubscription
from realtime.subscriptions.topics import topic_by_url

log = logging.getLogger(__name__)

OFFLINE_ACCESS = "offline_access"  # SMART's scope for a refresh token
# The statuses in which something may still be sent (a rest-hook in `error` keeps retrying).
SENDING_STATUSES = ("active", "requested", "error")
AUTHORITY_ENDED = (
    "The authority this subscription was created under ended: its owner's account was deactivated "
    "or changed role, or the app's authorisation ended (revoked, the app suspended, expired or its "
    "scopes narrowed); sign in or authorise the app again and create a new subscription."
)
WORDS = {
    Interaction.CREATE: "create",
    Interaction.READ: "read",
    Interaction.SEARCH: "search",
    Interaction.DELETE: "delete",
}


def may_read_focus(principal: Principal, resource_type: str) -> bool:
    """Whether the caller's token may read `resource_type` (an app's scope: read or search); an event
    of a topic is the focus resource, so receiving it is reading it."""
    grant = principal.grant
    return (
        grant is None
        or grant.allows(resource_type, Interaction.READ)
        or grant.allows(resource_type, Interaction.SEARCH)
    )


def confinement(principal: Principal, resource_type: str) -> uuid.UUID | None:
    """The one patient an app's subscriptions with this focus are kept to, or None: its launch
    patient when patient/ scopes (and no user/ one) cover the focus type, or Subscription itself."""
    grant = principal.grant
    if grant is None:
        return None
    confined = grant.compartment(resource_type)
    return confined if confined is not None else grant.compartment("Subscription")


def visible(principal: Principal, row: FhirSubscription) -> bool:
    """Its owner's (any, for an administrator's own token); an app sees only what it created, for
    patients its grant still reaches."""
    grant = principal.grant
    if grant is None:
        return row.owner_user_id == principal.user_id or principal.role is Role.ADMIN
    if row.owner_user_id != principal.user_id or row.grant_client_id != grant.client_id:
        return False
    topic = topic_by_url(row.topic)
    confined = confinement(principal, topic.resource_type if topic else "Subscription")
    return confined is None or confined == row.patient_id


def grant_columns(principal: Principal) -> dict[str, Any]:
    """The grant an app's subscription keeps (none for Ownat's own tokens); its id is the token's family."""
    grant = principal.grant
    if grant is None:
        return {}
    return {
        "grant_id": principal.family_id,
        "grant_client_id": grant.client_id,
        "grant_scope": grant.scope,
        "grant_patient_id": grant.patient_id,
    }


def end_within_grant(
    principal: Principal, end_at: datetime | None, *, access_token_ttl_s: int
) -> datetime | None:
    """The asked end, but no later than the app's access: without a refresh token (offline_access)
    a user's grant lapses with its access token, and so does what the app subscribed to."""
    grant = principal.grant
    if grant is None or grant.is_system or grant.has(OFFLINE_ACCESS):
        return end_at
    lapses_at = utc_now() + timedelta(seconds=access_token_ttl_s)
    return lapses_at if end_at is None else min(end_at, lapses_at)


def _needed(grant: SmartGrant, resource_type: str, letters: str) -> str:
    """The scopes that would grant it, at the levels the app holds (e.g. `patient/Subscription.c`)."""
    levels = sorted({c.level.value for c in grant.clinical}) or [Level.PATIENT.value, Level.USER.value]
    return " or ".join(f"{level}/{resource_type}.{letter}" for level in levels for letter in letters)


def require_scope(
    session: AsyncSession,
    principal: Principal,
    interaction: Interaction,
    *,
    action: str,
    resource_id: str | None = None,
) -> None:
    """Forbidden (audited) unless an app's scopes grant `interaction` on Subscription (as
    `clinical/fhir/scopes.py` does for the served types); Ownat's own tokens pass."""
    grant = principal.grant
    if grant is None or grant.allows("Subscription", interaction):
        return
    refuse(
        session,
        principal,
        action=f"fhir.subscription.{action}",
        resource_type="fhir.Subscription",
        resource_id=resource_id,
        message=(
            f"This app's access token has no scope to {WORDS[interaction]} Subscription: it needs "
            f"{_needed(grant, 'Subscription', interaction.value)} (granted: {grant.scope})."
        ),
    )


def require_focus(
    session: AsyncSession,
    principal: Principal,
    resource_type: str,
    *,
    action: str,
    resource_id: object | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    """Forbidden (audited) unless an app may read the topic's focus type: its events are that type."""
    if may_read_focus(principal, resource_type):
        return
    grant = principal.grant
    assert grant is not None  # may_read_focus passes every caller without a grant
    refuse(
        session,
        principal,
        action=f"fhir.subscription.{action}",
        resource_type="fhir.Subscription",
        resource_id=resource_id,
        patient_id=patient_id,
        message=(
            f"This app's access token has no scope to read {resource_type}, the focus of this topic's "
            f"events: it needs {_needed(grant, resource_type, 'rs')} (granted: {grant.scope})."
        ),
    )


def refuse_beyond_launch(
    session: AsyncSession,
    principal: Principal,
    resource_type: str,
    *,
    launch_patient: uuid.UUID,
    wanted: str,
    patient_id: uuid.UUID | None = None,
) -> NoReturn:
    """Forbidden (audited): an app kept to its launch patient asked for another patient or a ward."""
    assert principal.grant is not None  # only an app's grant confines
    confining = " ".join(
        str(c)
        for c in principal.grant.clinical
        if c.level is Level.PATIENT and c.resource_type in ("*", resource_type, "Subscription")
    )
    refuse(
        session,
        principal,
        action="fhir.subscription.create",
        resource_type="fhir.Subscription",
        patient_id=patient_id,
        message=(
            f"This app's patient/ scopes ({confining}) reach only its launch patient, "
            f"Patient/{launch_patient}: "
            f"subscribing to {wanted} needs user/{resource_type}.rs and user/Subscription.c."
        ),
    )


# The grant tables of `core.identity`, by the columns read here: its front door offers the apps but
# no lookup of a grant, and this check has to run inside the statements below, not after them.
_APPS = table("smart_apps", column("id", Uuid), column("client_id", String), column("is_active", Boolean))
_GRANTS = table(
    "smart_grants",
    column("id", Uuid),
    column("app_id", Uuid),
    column("scope", Text),
    column("revoked_at", UTCDateTime),
    column("refresh_expires_at", UTCDateTime),
)


def still_authorised(now: datetime) -> ColumnElement[bool]:
    """True while the subscription's owner's account is active with the role it was created under
    (an account change takes effect at once, as for their own requests) and, for an app's
    subscription, while the app is active and its grant still stands.

    The grant stands while it is not revoked (by the app, the user disconnecting it, a reused refresh
    token or the app's suspension), its refresh token has not lapsed, and its scopes are still those
    the subscription was created under (a refresh may narrow them). A backend service's grant is the
    app itself. A grant without a refresh token lapses with its access token: its subscriptions were
    given that end at creation (`end_within_grant`).
    """
    subscriptions = FhirSubscription.__table__
    # Correlated by hand: the inner test names the subscription two levels up.
    grant_stands = (
        exists()
        .where(
            _GRANTS.c.id == FhirSubscription.grant_id,
            _GRANTS.c.app_id == _APPS.c.id,
            _GRANTS.c.revoked_at.is_(None),
            _GRANTS.c.scope == FhirSubscription.grant_scope,
            or_(_GRANTS.c.refresh_expires_at.is_(None), _GRANTS.c.refresh_expires_at > now),
        )
        .correlate(subscriptions, _APPS)
    )
    app_stands = (
        exists()
        .where(
            _APPS.c.client_id == FhirSubscription.grant_client_id,
            _APPS.c.is_active.is_(True),
            or_(_APPS.c.id == FhirSubscription.grant_id, grant_stands),
        )
        .correlate(subscriptions)
    )
    owner_stands = (
        exists()
        .where(
            User.id == FhirSubscription.owner_user_id,
            User.is_active.is_(True),
            User.role == FhirSubscription.owner_role,
        )
        .correlate(subscriptions)
    )
    return and_(owner_stands, or_(FhirSubscription.grant_client_id.is_(None), app_stands))


async def end_unauthorised(session: AsyncSession, *, now: datetime) -> int:
    """Turns off every subscription still sending whose authority ended (`still_authorised`); how many.

    Recording checks the grant of each event anyway; this also stops what is already queued for a
    rest-hook (deliveries are claimed only for subscriptions still sending) and the heartbeats."""
    ended = await session.execute(
        update(FhirSubscription)
        .where(
            FhirSubscription.status.in_(SENDING_STATUSES),
            ~still_authorised(now),
        )
        .values(status="off", error=AUTHORITY_ENDED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(ended, "rowcount", 0) or 0)
    if count:
        log.info("ended %d FHIR subscriptions whose authority ended", count)
    return count
