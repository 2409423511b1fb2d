"""SMART apps on FHIR Subscriptions: scopes on Subscription and on the topic's focus, the launch
patient as the limit of patient/ scopes (at creation and at delivery), the grant's end ending the
subscription, and the websocket channel for an app's subscription.

Events go through the real dispatcher of the app under test (readings published on the Redis bus);
`{a}` is the launch patient, `{b}` another patient, `{w}` a ward.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.audit.models import AuditEvent
from core.bus import FHIR_SUBSCRIPTIONS_CHANGED, SubscriptionsChanged
from core.db import utc_now
from core.principal import Role
from core.sessions import transaction
from realtime.subscriptions.jobs import SubscriptionJobs
from realtime.subscriptions.models import FhirSubscription, FhirSubscriptionEvent
from realtime.subscriptions.record import TopicEvent, matches, owner_of
from realtime.subscriptions.topics import VITAL_SIGNS
from tests.builders import bearer, signed_in
from tests.clinical.builders import create_ward_with_beds
from tests.devices.ingest_helpers import wait_until
from tests.fhir import builders
from tests.fhir.conftest import outcome
from tests.fhir.subscription_helpers import (
    FHIR_JSON,
    GUARD_S,
    next_bundle,
    status_of,
    subscribe,
    subscription_body,
)
from tests.notifications.servers import HttpRecorder
from tests.realtime.hub_helpers import serve_app
from tests.smart.smart_support import admin_headers, app_token, register_app

HEART_RATE = "8867-4"
PATIENT_APP = "launch/patient patient/Observation.rs patient/Subscription.cruds"


@dataclass(frozen=True)
class Case:
    scope: str
    checks: tuple[tuple[str, str, int, str], ...]  # (topic, filter, expected status, words of the refusal)
    role: Role = Role.NURSE


CASES = {
    "patient Observation.rs + Subscription.cruds": Case(
        PATIENT_APP,
        (
            ("vital-signs", "Observation?patient=Patient/{a}", 201, ""),
            ("vital-signs", "Observation?patient=Patient/{b}", 403, "patient/Observation.rs"),
            ("vital-signs", "Observation?ward={w}", 403, "reach only its launch patient"),
            ("appointments", "Appointment?patient=Patient/{a}", 403, "patient/Appointment.r"),
            ("appointments", "", 403, "no scope to read Appointment"),
        ),
    ),
    "no Subscription scope": Case(
        "launch/patient patient/Observation.rs",
        (("vital-signs", "Observation?patient=Patient/{a}", 403, "patient/Subscription.c"),),
    ),
    "Subscription read only": Case(
        "launch/patient patient/Observation.rs patient/Subscription.rs",
        (("vital-signs", "Observation?patient=Patient/{a}", 403, "patient/Subscription.c"),),
    ),
    "no Observation read": Case(
        "launch/patient patient/Subscription.cruds patient/Appointment.rs",
        (
            ("vital-signs", "Observation?patient=Patient/{a}", 403, "patient/Observation.r"),
            ("appointments", "Appointment?patient=Patient/{a}", 201, ""),
        ),
    ),
    "user/*.rs and Subscription.cruds of a nurse": Case(
        "user/*.rs user/Subscription.cruds",
        (
            ("vital-signs", "Observation?ward={w}", 201, ""),
            ("vital-signs", "Observation?patient=Patient/{b}", 201, ""),
            ("alarms", "DetectedIssue?ward={w}", 201, ""),
            ("lab-results", "", 201, ""),
        ),
    ),
    "user/ Observation but patient/ Subscription": Case(
        "launch/patient user/Observation.rs patient/Subscription.cruds",
        (
            ("vital-signs", "Observation?patient=Patient/{a}", 201, ""),
            ("vital-signs", "Observation?ward={w}", 403, "patient/Subscription.cruds"),
        ),
    ),
    "user/*.rs without Subscription.c": Case(
        "user/*.rs",
        (("vital-signs", "Observation?ward={w}", 403, "user/Subscription.c"),),
    ),
    "a patient's own app": Case(
        "user/Observation.rs user/Subscription.cruds",
        (
            ("vital-signs", "Observation?patient=Patient/{own}", 201, ""),
            ("vital-signs", "Observation?patient=Patient/{b}", 403, "your own record"),
        ),
        role=Role.PATIENT,
    ),
}


async def _launch(
    client: httpx.AsyncClient,
    sessions: Any,
    scope: str,
    *,
    user_headers: dict[str, str],
    patient_id: uuid.UUID | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registered public app and the token response of its launch by the user."""
    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes=scope)
    tokens = await app_token(client, user_headers, app["client_id"], scope, patient_id=patient_id)
    return app, tokens


def _headers(tokens: dict[str, Any]) -> dict[str, str]:
    return {**bearer(tokens["access_token"]), **FHIR_JSON}


def _reading(patient_id: uuid.UUID, device_id: str, value: float) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "patient_id": str(patient_id),
        "bed_id": None,
        "ward_id": None,
        "readings": [
            {"metric": HEART_RATE, "value": value, "unit": "/min", "time": datetime.now(UTC).isoformat()}
        ],
    }


async def _subjects(sessions: Any, subscription_id: str | uuid.UUID) -> list[str]:
    """The patients of a full-resource subscription's recorded events, in order."""
    async with sessions() as session:
        rows = await session.scalars(
            select(FhirSubscriptionEvent.resource)
            .where(FhirSubscriptionEvent.subscription_id == uuid.UUID(str(subscription_id)))
            .order_by(FhirSubscriptionEvent.number)
        )
        return [resource["subject"]["reference"] for resource in rows]


async def _denied(sessions: Any, user_id: uuid.UUID, action: str) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                AuditEvent.actor_id == user_id, AuditEvent.action == action, AuditEvent.outcome == "denied"
            )
        )
    return count or 0


@pytest.mark.parametrize("name", list(CASES))
async def test_scopes_decide_what_an_app_may_subscribe_to(client, sessions, name: str) -> None:
    case = CASES[name]
    a = await builders.patient_record(sessions)
    b = await builders.patient_record(sessions)
    ward, _ = await create_ward_with_beds(sessions, beds=1)
    if case.role is Role.PATIENT:
        user, user_headers = await builders.patient_user(client, sessions)
        own = user.patient_id
    else:
        user, user_headers = await signed_in(client, sessions, case.role)
        own = None
    launch_patient = a if "launch/patient" in case.scope else None
    _, tokens = await _launch(
        client, sessions, case.scope, user_headers=user_headers, patient_id=launch_patient
    )
    values = {"a": a, "b": b, "w": ward.id, "own": own}
    for topic, template, expected, words in case.checks:
        criteria = template.format(**values)
        denied_before = await _denied(sessions, user.id, "fhir.subscription.create")
        response = await client.post(
            "/fhir/R4/Subscription", json=subscription_body(topic, criteria or None), headers=_headers(tokens)
        )
        where = f"{name}: {topic} {criteria}"
        assert response.status_code == expected, f"{where}: {response.text[:300]}"
        if expected == 403:
            assert words in outcome(response, 403)["diagnostics"], where
            assert await _denied(sessions, user.id, "fhir.subscription.create") == denied_before + 1, where


async def test_an_app_hears_its_launch_patient_and_manages_only_its_own_subscriptions(
    client, sessions, app, resources
) -> None:
    a = await builders.patient_record(sessions)
    _, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    _, tokens = await _launch(client, sessions, PATIENT_APP, user_headers=nurse_headers, patient_id=a)
    headers = _headers(tokens)
    created = await subscribe(
        client,
        headers,
        subscription_body("vital-signs", f"Observation?patient=Patient/{a}", content="full-resource"),
    )
    # Without offline_access the app's access ends with its token, and so does the subscription.
    end = datetime.fromisoformat(created["end"])
    assert utc_now() < end <= utc_now() + timedelta(seconds=resources.settings.access_token_ttl_s)
    own = await subscribe(
        client, nurse_headers, subscription_body("vital-signs", f"Observation?patient=Patient/{a}")
    )
    _, other_tokens = await _launch(client, sessions, PATIENT_APP, user_headers=nurse_headers, patient_id=a)

    dispatcher = app.state.fhir_subscriptions

    async def listening() -> bool:
        return dispatcher.listens_to(f"vitals.patient.{a}")

    await wait_until(listening, what="the dispatcher listening to the launch patient's vitals")
    await resources.bus.publish(f"vitals.patient.{a}", _reading(a, f"t-app-{uuid.uuid4().hex[:8]}", 97.0))

    async def heard() -> bool:
        return await _subjects(sessions, created["id"]) == [f"Patient/{a}"]

    await wait_until(heard, what="the app's subscription recording the launch patient's reading")
    base = f"/fhir/R4/Subscription/{created['id']}"
    events = await client.get(f"{base}/$events", headers=headers)
    assert events.status_code == 200, events.text
    [event] = status_of(events.json())["notificationEvent"]
    assert event["focus"]["reference"].startswith("Observation/")
    assert (await client.get(f"{base}/$status", headers=headers)).status_code == 200

    # The app lists what it created, not its user's own subscriptions; its user sees both.
    listed = (await client.get("/fhir/R4/Subscription", headers=headers)).json()
    assert [entry["resource"]["id"] for entry in listed["entry"]] == [created["id"]]
    mine = (await client.get("/fhir/R4/Subscription", headers=nurse_headers)).json()
    assert {created["id"], own["id"]} <= {entry["resource"]["id"] for entry in mine["entry"]}
    assert (await client.get(f"/fhir/R4/Subscription/{own['id']}", headers=headers)).status_code == 404
    # Another app of the same user does not even learn that it exists.
    assert (await client.get(base, headers=_headers(other_tokens))).status_code == 404
    assert (await client.delete(base, headers=_headers(other_tokens))).status_code == 404
    assert (await client.delete(base, headers=headers)).status_code == 204


async def test_each_interaction_needs_its_scope_on_subscription(client, sessions) -> None:
    a = await builders.patient_record(sessions)
    nurse, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    scope = "launch/patient patient/Observation.rs patient/Subscription.c offline_access"
    _, tokens = await _launch(client, sessions, scope, user_headers=nurse_headers, patient_id=a)
    headers = _headers(tokens)
    created = await subscribe(
        client, headers, subscription_body("vital-signs", f"Observation?patient=Patient/{a}")
    )
    assert "end" not in created  # offline_access: the grant lasts as long as its refresh token
    base = f"/fhir/R4/Subscription/{created['id']}"
    checks = [
        ("GET", base, "patient/Subscription.r"),
        ("GET", f"{base}/$status", "patient/Subscription.r"),
        ("GET", f"{base}/$events", "patient/Subscription.r"),
        ("POST", f"{base}/$get-ws-binding-token", "patient/Subscription.r"),
        ("GET", "/fhir/R4/Subscription", "patient/Subscription.s"),
        ("DELETE", base, "patient/Subscription.d"),
    ]
    for method, path, needed in checks:
        response = await client.request(method, path, headers=headers)
        assert needed in outcome(response, 403)["diagnostics"], f"{method} {path}"
    assert await _denied(sessions, nurse.id, "fhir.subscription.delete") >= 1
    # The topics are the server's catalogue: any valid token reads them.
    assert (await client.get("/fhir/R4/SubscriptionTopic", headers=headers)).status_code == 200


async def test_a_ward_subscription_of_a_confined_grant_hears_its_launch_patient_only(
    client, sessions, app, resources
) -> None:
    a = await builders.patient_record(sessions)
    b = await builders.patient_record(sessions)
    ward, _ = await create_ward_with_beds(sessions, beds=2)
    nurse, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    _, wide = await _launch(client, sessions, "user/*.rs user/Subscription.cruds", user_headers=nurse_headers)
    ward_body = subscription_body("vital-signs", f"Observation?ward={ward.id}", content="full-resource")
    control = await subscribe(client, _headers(wide), ward_body)
    # A patient/ grant never gets a ward subscription through the API; one made before the rule (or
    # by any other path) still hears only its launch patient, because delivery checks the grant.
    _, narrow = await _launch(client, sessions, PATIENT_APP, user_headers=nurse_headers, patient_id=a)
    claims = jwt.decode(narrow["access_token"], options={"verify_signature": False})
    confined = uuid.uuid4()
    async with transaction(sessions) as session:
        session.add(
            FhirSubscription(
                id=confined,
                topic=VITAL_SIGNS.url,
                status="active",
                ward_id=ward.id,
                criteria=f"Observation?ward={ward.id}",
                base_url="http://ownat.test/fhir/R4",
                channel_type="websocket",
                headers=[],
                content="full-resource",
                secret="s",
                owner_user_id=nurse.id,
                owner_role=Role.NURSE.value,
                grant_id=uuid.UUID(claims["gid"]),
                grant_client_id=claims["client_id"],
                grant_scope=claims["scope"],
                grant_patient_id=a,
                events_since_start=0,
            )
        )
    await resources.bus.publish(FHIR_SUBSCRIPTIONS_CHANGED, SubscriptionsChanged())
    dispatcher = app.state.fhir_subscriptions

    async def known() -> bool:
        return confined in dispatcher.active and dispatcher.listens_to(f"vitals.ward.{ward.id}")

    await wait_until(known, what="the dispatcher knowing both ward subscriptions")
    device = f"t-ward-{uuid.uuid4().hex[:8]}"
    message = {
        "ward_id": str(ward.id),
        "devices": [_reading(a, device + "a", 88.0), _reading(b, device + "b", 91.0)],
    }
    await resources.bus.publish(f"vitals.ward.{ward.id}", message)

    async def both_heard() -> bool:
        return sorted(await _subjects(sessions, control["id"])) == sorted([f"Patient/{a}", f"Patient/{b}"])

    await wait_until(both_heard, what="the user/ app's ward subscription recording both patients")
    # Recorded in the same round as the control's: what is not there now never will be.
    assert await _subjects(sessions, confined) == [f"Patient/{a}"]


def test_matching_applies_the_grant_kept_on_the_row() -> None:
    a, b, ward = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    row = FhirSubscription(
        topic=VITAL_SIGNS.url,
        ward_id=ward,
        owner_user_id=uuid.uuid4(),
        owner_role=Role.CLINICIAN.value,
        grant_id=uuid.uuid4(),
        grant_client_id="app",
        grant_scope=PATIENT_APP,
        grant_patient_id=a,
    )
    owner = owner_of(row)
    assert owner.grant is not None and owner.grant.patient_id == a and owner.family_id == row.grant_id

    def event(patient: uuid.UUID) -> TopicEvent:
        return TopicEvent(VITAL_SIGNS, f"k{patient}", utc_now(), "Observation/x", patient, ward_id=ward)

    assert matches(row, event(a)) and not matches(row, event(b))
    row.grant_scope = "launch/patient patient/Subscription.cruds patient/Appointment.rs"
    assert not matches(row, event(a))  # no scope reads Observation any more
    row.grant_client_id = row.grant_scope = row.grant_id = None
    assert matches(row, event(b))  # Ownat's own tokens: the clinician's role alone


REVOCATIONS = [
    "the app revokes its refresh token",
    "the user disconnects the app",
    "an admin suspends the app",
]


async def _revoke(
    client, sessions, how: str, *, app: dict[str, Any], tokens: dict[str, Any], user_headers
) -> None:
    if how == "the app revokes its refresh token":
        form = {"client_id": app["client_id"], "token": tokens["refresh_token"]}
        response = await client.post("/oauth/revoke", data=form)
        assert response.status_code == 200, response.text
    elif how == "the user disconnects the app":
        grant_id = jwt.decode(tokens["access_token"], options={"verify_signature": False})["gid"]
        response = await client.delete(f"/api/v1/smart/connected-apps/{grant_id}", headers=user_headers)
        assert response.status_code == 204, response.text
    else:
        admin = await admin_headers(client, sessions)
        response = await client.patch(
            f"/api/v1/smart/apps/{app['id']}", json={"is_active": False}, headers=admin
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("how", REVOCATIONS)
async def test_ending_the_grant_stops_delivery_at_once(client, sessions, app, resources, how: str) -> None:
    a = await builders.patient_record(sessions)
    _, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    scope = PATIENT_APP + " offline_access"
    registered, tokens = await _launch(client, sessions, scope, user_headers=nurse_headers, patient_id=a)
    body = subscription_body("vital-signs", f"Observation?patient=Patient/{a}", content="full-resource")
    created = await subscribe(client, _headers(tokens), body)
    control = await subscribe(client, nurse_headers, body)
    dispatcher = app.state.fhir_subscriptions

    async def listening() -> bool:
        known = {uuid.UUID(created["id"]), uuid.UUID(control["id"])} <= dispatcher.active.keys()
        return known and dispatcher.listens_to(f"vitals.patient.{a}")

    await wait_until(listening, what="the dispatcher knowing both subscriptions")
    device = f"t-rev-{uuid.uuid4().hex[:8]}"
    await resources.bus.publish(f"vitals.patient.{a}", _reading(a, device, 90.0))

    async def first_heard() -> bool:
        return (
            len(await _subjects(sessions, created["id"])) == 1
            and len(await _subjects(sessions, control["id"])) == 1
        )

    await wait_until(first_heard, what="both subscriptions recording the first reading")
    await _revoke(client, sessions, how, app=registered, tokens=tokens, user_headers=nurse_headers)
    assert (await client.get("/fhir/R4/Subscription", headers=_headers(tokens))).status_code == 401
    await resources.bus.publish(f"vitals.patient.{a}", _reading(a, device, 140.0))

    async def second_heard() -> bool:
        return len(await _subjects(sessions, control["id"])) == 2

    await wait_until(second_heard, what="the nurse's own subscription recording the second reading")
    # Both were recorded in one round: the app's subscription was turned off instead.
    assert len(await _subjects(sessions, created["id"])) == 1
    seen = (await client.get(f"/fhir/R4/Subscription/{created['id']}", headers=nurse_headers)).json()
    assert seen["status"] == "off" and "authorisation ended" in seen["error"]
    assert (await client.get(f"/fhir/R4/Subscription/{control['id']}", headers=nurse_headers)).json()[
        "status"
    ] == "active"


async def test_a_rest_hook_of_a_suspended_app_posts_nothing_more(app_with, sessions) -> None:
    a = await builders.patient_record(sessions)
    recorder = HttpRecorder()
    jobs = SubscriptionJobs()
    async with (
        app_with(fhir_hooks_allow_private=True) as running,
        recorder.serving(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=running), base_url="http://ownat.test") as client,
    ):
        resources = running.state.resources
        _, nurse_headers = await signed_in(client, sessions, Role.NURSE)
        registered, tokens = await _launch(
            client, sessions, PATIENT_APP + " offline_access", user_headers=nurse_headers, patient_id=a
        )
        body = subscription_body(
            "vital-signs", f"Observation?patient=Patient/{a}", channel="rest-hook", endpoint=recorder.url
        )
        created = await subscribe(client, _headers(tokens), body)
        assert created["status"] == "requested"  # its handshake is queued, not yet sent
        await _revoke(
            client, sessions, "an admin suspends the app", app=registered, tokens=tokens, user_headers=None
        )
        try:
            await jobs(resources, now=utc_now())  # the worker's pass: the grant is checked first
        finally:
            await jobs.close()
        seen = (await client.get(f"/fhir/R4/Subscription/{created['id']}", headers=nurse_headers)).json()
    assert seen["status"] == "off" and "authorisation ended" in seen["error"]
    assert recorder.requests == []


async def test_an_apps_websocket_subscription_binds_hears_and_closes_when_the_grant_ends(
    client, sessions, settings
) -> None:
    a = await builders.patient_record(sessions)
    _, nurse_headers = await signed_in(client, sessions, Role.NURSE)
    registered, tokens = await _launch(
        client, sessions, PATIENT_APP + " offline_access", user_headers=nurse_headers, patient_id=a
    )
    device = f"t-ws-{uuid.uuid4().hex[:8]}"
    async with serve_app(settings) as running:
        port = running.url.split(":")[2].split("/")[0]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=GUARD_S) as served:
            body = subscription_body("vital-signs", f"Observation?patient=Patient/{a}", heartbeat_s=1)
            created = await subscribe(served, _headers(tokens), body)
            answer = await served.post(
                f"/fhir/R4/Subscription/{created['id']}/$get-ws-binding-token", headers=_headers(tokens)
            )
            assert answer.status_code == 200, answer.text
            parameters = {p["name"]: p for p in answer.json()["parameter"]}
        dispatcher = running.app.state.fhir_subscriptions

        async def listening() -> bool:
            return dispatcher.listens_to(f"vitals.patient.{a}")

        await wait_until(listening, what="the served app's dispatcher listening to the patient")
        async with connect(parameters["websocket-url"]["valueUrl"], open_timeout=GUARD_S) as socket:
            await socket.send(f"bind-with-token {parameters['token']['valueString']}")
            await next_bundle(socket, "handshake")
            await running.app.state.resources.bus.publish(f"vitals.patient.{a}", _reading(a, device, 101.0))
            notification = status_of(await next_bundle(socket, "event-notification"))
            assert notification["subscription"]["reference"] == f"Subscription/{created['id']}"

            await _revoke(
                client,
                sessions,
                "the user disconnects the app",
                app=registered,
                tokens=tokens,
                user_headers=nurse_headers,
            )
            await running.app.state.resources.bus.publish(f"vitals.patient.{a}", _reading(a, device, 150.0))
            # Nothing more but heartbeats, until the next one finds the grant ended and closes.
            assert set(await _frames_until_closed(socket)) <= {"heartbeat"}
            assert socket.close_code == 1008
        # The binding token is still unexpired, but binds nothing any more.
        async with connect(parameters["websocket-url"]["valueUrl"], open_timeout=GUARD_S) as socket:
            await socket.send(f"bind-with-token {parameters['token']['valueString']}")
            assert await _frames_until_closed(socket) == []
            assert socket.close_code == 1008


async def _frames_until_closed(socket: ClientConnection) -> list[str]:
    """The kinds of the notification Bundles received until the server closes the socket."""
    kinds: list[str] = []
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(GUARD_S):
            while True:
                kinds.append(status_of(json.loads(await socket.recv()))["type"])
    return kinds
