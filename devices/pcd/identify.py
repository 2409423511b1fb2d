"""Which registered device a PCD-01 observation came from.

First the EUI-64 of OBX-18 (or of its MDS): a device registered with it as its EUI-64 (the
registry's `eui64`, 16 upper-case hexadecimal digits), else as its device id or its serial number. A monitor not registered itself is then found through the existing bindings: the
device bound now to the bed named by PV1-3 (ward code or name, bed label), else to the patient
named by PID-3 (MRN). Answers are cached for a few seconds (a gateway sends many messages a second),
so a device registered or bound a moment ago is found within that bound.
"""

from __future__ import annotations

import time

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation import Bed, Ward
from clinical.patients import Patient
from core.db import utc_now
from core.sessions import transaction
from devices.registry import Device, DeviceBinding, DeviceStatus

CACHE_S = 5.0


class DeviceFinder:
    """Resolves EUI-64s, beds and patients to device ids, with a short cache."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, cache_s: float = CACHE_S) -> None:
        self._sessions = sessions
        self._cache_s = cache_s
        self._cache: dict[tuple[str, ...], tuple[float, str | None]] = {}

    async def device_id(
        self, eui64: str, *, point_of_care: tuple[str, str, str], patient_identifier: str
    ) -> str | None:
        """The registered device's id, or None when neither its EUI-64 nor a binding names one."""
        key = (eui64, *point_of_care, patient_identifier)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._cache_s:
            return cached[1]
        async with transaction(self._sessions) as session:
            found = await _by_eui64(session, eui64)
            ward, _room, bed = point_of_care
            if found is None and ward and bed:
                found = await _by_bed(session, ward, bed)
            if found is None and patient_identifier:
                found = await _by_patient(session, patient_identifier)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), found)
        return found


def _active() -> list[ColumnElement[bool]]:
    return [Device.status == DeviceStatus.ACTIVE]


async def _by_eui64(session: AsyncSession, eui64: str) -> str | None:
    eui64 = eui64.upper()
    query = (
        select(Device.device_id)
        .where(
            or_(
                Device.eui64 == eui64,
                func.upper(Device.device_id) == eui64,
                func.upper(Device.serial) == eui64,
            ),
            *_active(),
        )
        # The registry's EUI-64 names the device for certain; an id or serial that looks like one
        # may belong to another (the column is unique, ids and serials are not checked against it).
        .order_by(case((Device.eui64 == eui64, 0), else_=1))
    )
    return (await session.scalars(query.limit(1))).first()


def _bound_now() -> ColumnElement[bool]:
    now = utc_now()
    return (DeviceBinding.start_at <= now) & (DeviceBinding.end_at.is_(None) | (DeviceBinding.end_at > now))


async def _by_bed(session: AsyncSession, ward: str, bed: str) -> str | None:
    query = (
        select(Device.device_id)
        .join(DeviceBinding, DeviceBinding.device_uuid == Device.id)
        .join(Bed, Bed.id == DeviceBinding.bed_id)
        .join(Ward, Ward.id == Bed.ward_id)
        .where(or_(Ward.code == ward, Ward.name == ward), Bed.label == bed, _bound_now(), *_active())
        .order_by(DeviceBinding.start_at.desc())
    )
    return (await session.scalars(query.limit(1))).first()


async def _by_patient(session: AsyncSession, mrn: str) -> str | None:
    query = (
        select(Device.device_id)
        .join(DeviceBinding, DeviceBinding.device_uuid == Device.id)
        .join(Patient, Patient.id == DeviceBinding.patient_id)
        .where(Patient.mrn == mrn, _bound_now(), *_active())
        .order_by(DeviceBinding.start_at.desc())
    )
    return (await session.scalars(query.limit(1))).first()
