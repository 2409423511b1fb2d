"""Snapshots carry the active alarms in scope (ward, patient, own alarm feed); deltas follow them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Bed, Ward
from core.db import utc_now
from core.identity.models import User
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from realtime.alarms import store
from realtime.alarms.models import AlarmKind, AlarmPriority
from realtime.alarms.publishing import publish_changes
from realtime.alarms.schemas import AlarmChange
from tests.builders import create_user
from tests.clinical.builders import admit, audit_trail, create_patient_user, create_ward_with_beds
from tests.realtime.hub_helpers import RunningHub, hub_client, serve_app, token_for

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def raise_alarm(
    sessions: async_sessionmaker[AsyncSession],
    *,
    patient_id: uuid.UUID,
    bed: Bed,
    code: str,
    priority: AlarmPriority,
    minutes_ago: int = 0,
) -> AlarmChange:
    async with transaction(sessions) as session:
        raised = await store.raise_alarm(
            session,
            patient_id=patient_id,
            condition_key=f"threshold:{code}:high",
            kind=AlarmKind.THRESHOLD,
            code=code,
            priority=priority,
            now=utc_now() - timedelta(minutes=minutes_ago),
            bed_id=bed.id,
            ward_id=bed.ward_id,
            value=150.0,
        )
    assert raised is not None
    return raised


async def resolve(sessions: async_sessionmaker[AsyncSession], change: AlarmChange) -> None:
    async with transaction(sessions) as session:
        await store.resolve_open(
            session,
            patient_id=change.alarm.patient_id,
            condition_keys=[change.alarm.condition_key],
            now=utc_now(),
        )


async def ward_with_alarms(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[Ward, User, list[AlarmChange]]:
    """A ward whose patient (with an account) has a medium and a newer high alarm open, one resolved."""
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    patient_user, patient, _password = await create_patient_user(sessions)
    patient_id = patient.id
    await admit(sessions, patient_id=patient_id, bed_id=bed.id)
    medium = await raise_alarm(
        sessions, patient_id=patient_id, bed=bed, code="8310-5", priority=AlarmPriority.MEDIUM, minutes_ago=1
    )
    high = await raise_alarm(
        sessions, patient_id=patient_id, bed=bed, code="8867-4", priority=AlarmPriority.HIGH
    )
    gone = await raise_alarm(
        sessions, patient_id=patient_id, bed=bed, code="9279-1", priority=AlarmPriority.HIGH
    )
    await resolve(sessions, gone)
    return ward, patient_user, [high, medium]


def ids(alarms: list[dict]) -> list[str]:
    return [alarm["id"] for alarm in alarms]


async def test_ward_snapshot_lists_the_wards_open_alarms_most_urgent_first(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, _patient_user, open_alarms = await ward_with_alarms(sessions)
    patient_id = open_alarms[0].alarm.patient_id
    await ward_with_alarms(sessions)  # another ward's alarms stay out of this snapshot
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        snapshot = await client.subscribe("ward", ward.id)
        assert snapshot["type"] == "snapshot"
        assert ids(snapshot["alarms"]) == [str(c.alarm.id) for c in open_alarms]
        assert snapshot["alarms"][0] == open_alarms[0].alarm.model_dump(mode="json")
        # Deltas keep flowing after the snapshot, in the same shape.
        async with transaction(sessions) as session:
            resolved_now = await store.resolve_open(
                session, patient_id=patient_id, condition_keys=["threshold:8867-4:high"], now=utc_now()
            )
        await publish_changes(running.bus, resolved_now)
        delta = await client.receive_type("alarm")
        assert (
            delta["alarm"]["change"] == "resolved"
            and delta["alarm"]["alarm"]["id"] == ids(snapshot["alarms"])[0]
        )
    assert ("read", "live-feed", "success") in await audit_trail(sessions, patient_id=patient_id)


async def test_patient_and_own_alarm_feed_snapshots_list_the_patients_open_alarms(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    _ward, user, open_alarms = await ward_with_alarms(sessions)
    patient_id = open_alarms[0].alarm.patient_id
    _other_ward, _other_user, others = await ward_with_alarms(sessions)
    other_patient = others[0].alarm.patient_id
    expected = [str(c.alarm.id) for c in open_alarms]
    async with hub_client(running.url, token_for(user, settings)) as client:
        own_feed = await client.subscribe("alarms", None)
        assert (own_feed["type"], ids(own_feed["alarms"])) == ("snapshot", expected)
        patient_view = await client.subscribe("patient", patient_id)
        assert (patient_view["type"], ids(patient_view["alarms"])) == ("snapshot", expected)
        refused = await client.subscribe("patient", other_patient)
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
    assert ("read", "live-feed", "denied") in await audit_trail(sessions, patient_id=other_patient)
