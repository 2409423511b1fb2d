"""Snapshots: the state a subscriber starts from (latest value of each metric per bed, active alarms).

A ward snapshot lists the ward's open alarms, a patient or alarm-feed snapshot the patient's, each
in the shape of the `alarm` of an alarm delta, most urgent first; deltas follow as before. The
notifications feed (the caller's own in-app notifications) starts from their unread ones.

Authorisation and audit happen here too, per connection, so that every read of patient data the
hub makes is checked and recorded in one place.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import notifications
from clinical.organisation import Bed, Ward, current_stays
from clinical.patients import Patient
from core import audit
from core.access import refuse
from core.db import utc_now
from core.errors import NotFound
from core.principal import Principal
from core.sessions import transaction
from devices.vitals import latest_values
from realtime.alarms import AlarmRead, active_alarms
from realtime.hub.keys import SubscriptionKey

# The newest unread notifications a feed starts from; older ones are a page of the inbox API away.
NOTIFICATIONS_IN_SNAPSHOT = 20

VitalsByPatient = dict[uuid.UUID, list[dict[str, Any]]]


class SnapshotReader:
    """Reads snapshots for one hub: each key's data once for every connection waiting for it.

    After a bus reconnect every connection asks at once. The data of a key (beds, latest values,
    open alarms) is then read once for all the requests queued for it, at most `concurrency` reads
    at a time, so that a thousand dashboards do not empty the database pool. A request joins only a
    read that has not started yet: its feed was routed before the read began, so no reading can
    fall between its snapshot and its first delta. Authorisation and the audit of what each caller
    was shown stay per connection.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, concurrency: int) -> None:
        self._sessions = sessions
        self._gate = asyncio.Semaphore(concurrency)
        self._queued: dict[SubscriptionKey, asyncio.Future[_View]] = {}
        self._reads: set[asyncio.Task[None]] = set()
        # Data reads made (not requests answered): for the system's figures and the tests.
        self.reads = 0

    async def authorised(self, *, principal: Principal, key: SubscriptionKey, reason: str) -> dict[str, Any]:
        """Checks that `principal` may watch `key` and returns its snapshot message; audited."""
        if key.scope == "notifications":
            async with self._gate, transaction(self._sessions) as session:
                return await _notifications_snapshot(session, principal=principal, key=key)
        refusal = _refusal(principal, key)
        if refusal is not None:
            async with transaction(self._sessions) as session:
                patient_id = None if key.scope == "ward" else key.id
                refuse(
                    session,
                    principal,
                    action="read",
                    resource_type="live-feed",
                    resource_id=key.id,
                    patient_id=patient_id,
                    message=refusal,
                )
        view = await self._shared(key)
        async with self._gate, transaction(self._sessions) as session:
            # One entry per patient whose data the snapshot shows (or one for an empty ward).
            shown: list[uuid.UUID | None] = [*view.seen] or [None]
            for seen in shown:
                _record(session, principal, key, reason, patient_id=seen)
        return {"type": "snapshot", **key.label(), **view.message}

    async def _shared(self, key: SubscriptionKey) -> _View:
        future = self._queued.get(key)
        if future is None:
            future = self._queued[key] = asyncio.get_running_loop().create_future()
            # Retrieved even when every waiter has gone, so that a failure is not reported as lost.
            future.add_done_callback(lambda done: done.cancelled() or done.exception())
            read = asyncio.create_task(self._read(key, future))
            self._reads.add(read)
            read.add_done_callback(self._reads.discard)
        return await asyncio.shield(future)

    async def _read(self, key: SubscriptionKey, future: asyncio.Future[_View]) -> None:
        try:
            async with self._gate:
                # Requests from now on start a read of their own (see the class's docstring).
                if self._queued.get(key) is future:
                    del self._queued[key]
                self.reads += 1
                async with transaction(self._sessions) as session:
                    view = await _READERS[key.scope](session, key)
        except BaseException as error:
            if self._queued.get(key) is future:
                del self._queued[key]
            if not future.done():
                future.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
        else:
            future.set_result(view)


@dataclass(frozen=True, slots=True)
class _View:
    """A key's snapshot data, shared by every connection it is read for: not to be modified."""

    message: dict[str, Any]
    # The patients whose data it shows, for the audit of each caller.
    seen: list[uuid.UUID]


def _refusal(principal: Principal, key: SubscriptionKey) -> str | None:
    if key.scope == "ward":
        return None if principal.is_staff else "Ward feeds are for staff."
    if key.scope == "notifications":
        return None if key.id == principal.user_id else "You may watch only your own notifications."
    return None if principal.may_access_patient(key.id) else "You may watch only your own feed."


def _record(
    session: AsyncSession,
    principal: Principal,
    key: SubscriptionKey,
    reason: str,
    patient_id: uuid.UUID | None,
) -> None:
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type="live-feed",
        resource_id=key.id,
        patient_id=patient_id,
        detail={"via": "websocket", "scope": key.scope, "reason": reason},
    )


async def _ward_view(session: AsyncSession, key: SubscriptionKey) -> _View:
    if await session.get(Ward, key.id) is None:
        raise NotFound("No such ward.")
    beds = (await session.scalars(select(Bed).where(Bed.ward_id == key.id, Bed.active.is_(True)))).all()
    patient_by_bed = {bed.id: stay.patient_id for stay, bed in await current_stays(session, ward_id=key.id)}
    now = utc_now()
    vitals = await _latest(session, list(patient_by_bed.values()), now)
    alarms = await active_alarms(session, ward_id=key.id)
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
    # In a bed now, or with an alarm open here.
    seen = list(dict.fromkeys([*patient_by_bed.values(), *(a.patient_id for a in alarms)]))
    return _View({"at": now.isoformat(), "beds": entries, "alarms": _as_json(alarms)}, seen)


async def _patient_view(session: AsyncSession, key: SubscriptionKey) -> _View:
    if await session.get(Patient, key.id) is None:
        raise NotFound("No such patient.")
    now = utc_now()
    alarms = await active_alarms(session, patient_id=key.id)
    message: dict[str, Any] = {"at": now.isoformat(), "alarms": _as_json(alarms)}
    if key.scope == "patient":
        message["vitals"] = (await _latest(session, [key.id], now)).get(key.id, [])
    return _View(message, [key.id])


_READERS = {"ward": _ward_view, "patient": _patient_view, "alarms": _patient_view}


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
            message=_refusal(principal, key) or "",
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
