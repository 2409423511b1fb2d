"""The benchmark's hospital in a scratch database: wards of beds, a patient and a monitor in each, staff.

Rows are inserted in bulk (the services would audit each one and take minutes); they are the rows
the services would make: an admission per bed, a device bound to the bed and its patient, nurses.
Staff share one argon2 hash, computed once, and get access tokens as login issues them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from clinical.organisation import Admission, Bed, Department, Ward
from clinical.patients import Patient, format_mrn
from core.db import create_engine
from core.identity import User, hash_password, issue_access_token
from core.principal import Role
from core.settings import Settings
from devices.registry import Device, DeviceBinding, DeviceKind, DeviceStatus
from realtime.alarms import HR, AlarmPriority, AlarmThreshold

# The scripted patients alarm on their first heart rate above this, with no condition delay, so the
# alarm latency measured is the pipeline's, not the delay's.
SCRIPTED_HR_HIGH = 130.0


@dataclass(slots=True)
class Hospital:
    """What the load, the clients and the report need to know of the hospital."""

    ward_of_device: dict[str, str] = field(default_factory=dict)  # device id -> ward id
    patient_of_device: dict[str, str] = field(default_factory=dict)
    bed_of_device: dict[str, str] = field(default_factory=dict)
    staff: list[tuple[str, str]] = field(default_factory=list)  # (user id, ward watched)
    scripted: list[str] = field(default_factory=list)  # device ids that will cross the HR limit

    @property
    def wards(self) -> list[str]:
        return sorted(set(self.ward_of_device.values()))


def plan(*, devices: int, beds_per_ward: int, clients: int, scripted: int, tag: str) -> Hospital:
    """Ids for everything: devices over wards in order, clients over wards round robin."""
    hospital = Hospital()
    ward_ids = [str(uuid.uuid4()) for _ in range(-(-devices // beds_per_ward))]
    for index in range(devices):
        device_id = f"fan-{tag}-{index:05d}"
        hospital.ward_of_device[device_id] = ward_ids[index // beds_per_ward]
        hospital.patient_of_device[device_id] = str(uuid.uuid4())
        hospital.bed_of_device[device_id] = str(uuid.uuid4())
    hospital.staff = [(str(uuid.uuid4()), ward_ids[n % len(ward_ids)]) for n in range(clients)]
    # Spread over the wards: the first bed of every k-th ward.
    step = max(1, len(ward_ids) // max(1, scripted))
    firsts = range(0, min(devices, len(ward_ids) * beds_per_ward), step * beds_per_ward)
    hospital.scripted = [f"fan-{tag}-{index:05d}" for index in firsts][:scripted]
    return hospital


def _rows(hospital: Hospital, tag: str, password_hash: str) -> dict[type, list[dict[str, object]]]:
    now = datetime.now(UTC)
    since = now - timedelta(days=1)
    department = uuid.uuid4()
    rows: dict[type, list[dict[str, object]]] = {
        Department: [{"id": department, "code": f"BENCH-{tag}", "name": f"Bench {tag}"}],
        Ward: [
            {
                "id": uuid.UUID(w),
                "department_id": department,
                "code": f"W{tag}{n:03d}",
                "name": f"Ward {n + 1}",
            }
            for n, w in enumerate(hospital.wards)
        ],
    }
    for table in (Bed, Patient, Admission, Device, DeviceBinding):
        rows[table] = []
    for n, (device_id, ward) in enumerate(hospital.ward_of_device.items()):
        bed, device = uuid.UUID(hospital.bed_of_device[device_id]), uuid.uuid4()
        patient = uuid.UUID(hospital.patient_of_device[device_id])
        number = 900_000_000 + n
        rows[Bed].append({"id": bed, "ward_id": uuid.UUID(ward), "label": f"B{n + 1}"})
        rows[Patient].append({
            "id": patient, "mrn": format_mrn(number), "mrn_number": number, "given_name": f"Bench{n}",
            "family_name": "Patient", "given_name_key": f"bench{n}", "family_name_key": "patient",
            "birth_date": date(1960 + n % 40, 1 + n % 12, 1 + n % 28), "gender": "female" if n % 2 else "male",
        })  # fmt: skip
        rows[Admission].append({"id": uuid.uuid4(), "patient_id": patient, "bed_id": bed, "start_at": since})
        rows[Device].append({
            "id": device, "device_id": device_id, "kind": DeviceKind.BEDSIDE_MONITOR, "manufacturer": "Bench",
            "model": "B1", "serial": device_id, "status": DeviceStatus.ACTIVE,
        })  # fmt: skip
        rows[DeviceBinding].append({
            "id": uuid.uuid4(), "device_uuid": device, "patient_id": patient, "bed_id": bed,
            "ward_id": uuid.UUID(ward), "start_at": since,
        })  # fmt: skip
    rows[AlarmThreshold] = [
        {"id": uuid.uuid4(), "patient_id": uuid.UUID(hospital.patient_of_device[d]), "metric": HR, "low": 40.0,
         "high": SCRIPTED_HR_HIGH, "priority": AlarmPriority.HIGH, "delay_s": 0}
        for d in hospital.scripted
    ]  # fmt: skip
    rows[User] = [
        {"id": uuid.UUID(u), "email": f"nurse{n}.{tag}@bench.invalid", "full_name": f"Nurse {n}",
         "role": Role.NURSE, "password_hash": password_hash}
        for n, (u, _ward) in enumerate(hospital.staff)
    ]  # fmt: skip
    return rows


async def build(database_url: str, hospital: Hospital, tag: str) -> None:
    """Inserts the hospital; one transaction."""
    rows = _rows(hospital, tag, await hash_password(f"bench-{tag}-{uuid.uuid4().hex}"))
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for table, values in rows.items():
                for start in range(0, len(values), 1000):
                    await connection.execute(insert(table), values[start : start + 1000])
    finally:
        await engine.dispose()


def tokens(hospital: Hospital, settings: Settings) -> list[str]:
    """An access token per staff member, exactly as `POST /api/v1/auth/login` issues them."""
    from core.principal import Principal

    return [
        issue_access_token(
            Principal(user_id=uuid.UUID(u), role=Role.NURSE, token_id=uuid.uuid4().hex), settings=settings
        )[0]
        for u, _ward in hospital.staff
    ]
