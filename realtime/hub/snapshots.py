"""Snapshots: the state a subscriber starts from (latest value of each metric per bed, active alarms).

A ward snapshot lists the ward's open alarms, a patient or alarm-feed snapshot the patient's, each
in the shape of the `alarm` of an alarm delta, most urgent first; deltas follow as before. The
notifications feed (the caller's own in-app notifications) starts from their unread ones.

Authorisation and audit happen here too, in the snapshot's own transaction, so that every read of
patient data the hub makes is checked and recorded in one place.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.census import current_stays
from clinical.organisation.models import Bed, Ward
from clinical.patients.models import Patient
from core.access import refuse, require_patient_scope
from core.audit import service as audit
from core.db import utc_now
from core.errors import NotFound
from core.identity.principal import Principal
from core.sessions import transaction
from devices.vitals.queries import latest_values
from realtime.alarms import store
from realtime.alarms.schemas import AlarmRead
from realtime.hub.keys import SubscriptionKey
from realtime.notifications import service as notifications

# The newest unread notifications a feed starts from; older ones are a page of the inbox API away.
NOTIFICATIONS_IN_SNAPSHOT = 20

VitalsByPatient = dict[uuid.UUID, list[dict[str, Any]]]


async def authorised_snapshot(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, key: SubscriptionKey, reason: str
) -> dict[str, Any]:
    """Checks that `principal` may watch `key` and returns its snapshot message; audited."""
    async with transaction(sessions) as session:
        if key.scope == "ward":
            return await _ward_snapshot(session, principal=principal, key=key, reason=reason)
        if key.scope == "notifications":
            return await _notifications_snapshot(session, principal=principal, key=key)
        return await _patient_snapshot(session, principal=principal, key=key, reason=reason)


def _record(
    session: AsyncSession, principal: Principal, key: SubscriptionKey, reason: str, **fields: Any
) -> None:
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type="live-feed",
        resource_id=key.id,
        detail={"via": "websocket", "scope": key.scope, "reason": reason},
        **fields,
    )


async def _ward_snapshot(
    session: AsyncSession, *, principal: Principal, key: SubscriptionKey, reason: str
) -> dict[str, Any]:
    if not principal.is_staff:
        refuse(
            session,
            principal,
            action="read",
            resource_type="live-feed",
            resource_id=key.id,
            message="Ward feeds are for staff.",
        )
    if await session.get(Ward, key.id) is None:
        raise NotFound("No such ward.")
    beds = (await session.scalars(select(Bed).where(Bed.ward_id == key.id, Bed.active.is_(True)))).all()
    patient_by_bed = {bed.id: stay.patient_id for stay, bed in await current_stays(session, ward_id=key.id)}
    now = utc_now()
    vitals = await _latest(session, list(patient_by_bed.values()), now)
    alarms = await store.active_alarms(session, ward_id=key.id)
    # One entry per patient whose data the snapshot shows: in a bed now, or with an alarm open here.
    for seen in dict.fromkeys([*patient_by_bed.values(), *(a.patient_id for a in alarms)]):
        _record(session, principal, key, reason, patient_id=seen)
    entries = []
    for bed in sorted(beds, key=lambda b: b.label):
        patient_id = patient_by_bed.get(bed.id)
        entries.append(
            {
                "bed_id": str(bed.id),
                "label": bed.label,
                "patient_id": None if patient_id is None else str(patient_id),
                "vitals": vitals.get(patient_id, []) if patient_id else [],
            }
        )
    if not patient_by_bed and not alarms:
        _record(session, principal, key, reason)
    return {
        "type": "snapshot",
        **key.label(),
        "at": now.isoformat(),
        "beds": entries,
        "alarms": _as_json(alarms),
    }


async def _patient_snapshot(
    session: AsyncSession, *, principal: Principal, key: SubscriptionKey, reason: str
) -> dict[str, Any]:
    # Recorded against the patient whose feed was asked for: their record shows the attempt.
    require_patient_scope(
        session,
        principal,
        key.id,
        action="read",
        resource_type="live-feed",
        resource_id=key.id,
        message="You may watch only your own feed.",
    )
    if await session.get(Patient, key.id) is None:
        raise NotFound("No such patient.")
    _record(session, principal, key, reason, patient_id=key.id)
    now = utc_now()
    alarms = await store.active_alarms(session, patient_id=key.id)
    message: dict[str, Any] = {
        "type": "snapshot",
        **key.label(),
        "at": now.isoformat(),
        "alarms": _as_json(alarms),
    }
    if key.scope == "patient":
        message["vitals"] = (await _latest(session, [key.id], now)).get(key.id, [])
    return message


def _as_json(alarms: list[AlarmRead]) -> list[dict[str, Any]]:
    # The same shape as the `alarm` field of an alarm delta's change.
    return [alarm.model_dump(mode="json") for alarm in alarms]


async def _latest(session: AsyncSession, patient_ids: list[uuid.UUID], now: Any) -> VitalsByPatient:
    by_patient: VitalsByPatient = {}
    for patient_id, metric, value, unit, time, device_id in await latest_values(
        session, patient_ids=patient_ids, now=now
    ):
        by_patient.setdefault(patient_id, []).append(
            {"metric": metric, "value": value, "unit": unit, "time": time.isoformat(), "device_id": device_id}
        )
    for readings in by_patient.values():
        readings.sort(key=lambda r: r["metric"])
    return by_patient


async def _notifications_snapshot(
    session: AsyncSession, *, principal: Principal, key: SubscriptionKey
) -> dict[str, Any]:
    if key.id != principal.user_id:
        refuse(
            session,
            principal,
            action="read",
            resource_type="live-feed",
            resource_id=key.id,
            message="You may watch only your own notifications.",
        )
    # Audited as a read of the inbox by the notifications service itself.
    inbox = await notifications.list_inbox(
        session=session, actor=principal, unread_only=True, cursor=None, limit=NOTIFICATIONS_IN_SNAPSHOT
    )
    return {
        "type": "snapshot",
        **key.label(),
        "at": utc_now().isoformat(),
        "unread_count": inbox.unread_count,
        "notifications": [item.model_dump(mode="json") for item in inbox.items],
    }
