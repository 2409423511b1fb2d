"""The demo's devices: a bedside monitor on each occupied bed and a home pulse oximeter for the
demo patient, registered and bound through the registry; and what the embedded runner needs to
drive the simulator for them (`demo_devices`, `simulated_devices`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Bed, Ward
from core.db import utc_now
from core.principal import SYSTEM
from devices import registry
from devices.registry import BindingCreate, Device, DeviceBinding, DeviceCreate, DeviceKind
from devices.simulator import DEMO_TIME_SCALE, SimulatedDevice
from devices.simulator import DeviceKind as SimulatedKind
from ownat.demo.context import Seeding
from ownat.demo.inpatient_plan import INPATIENTS
from ownat.demo.outpatient_plan import OUTPATIENTS
from ownat.demo.specs import PatientPlan
from ownat.demo.staff_plan import ward

MANUFACTURER = "Ownat Simulator"
MODELS: dict[str, str] = {
    "bedside_monitor": "Bedside monitor (simulated)",
    "pulse_oximeter": "Pulse oximeter (simulated)",
}
HOME_OXIMETER = "home-jensen-oximeter"
# A GS1 UDI as on a label: (01) the device identifier, (21) the serial (made up for the demo).
DEMO_OXIMETER_UDI = "(01)09999999000017(21)SIM-HOME-JENSEN-OXIMETER"
# The bed whose monitor speaks IHE PCD-01 over MLLP in the demo, as a monitor gateway would: its
# EUI-64 is not registered, so Ownat finds it through the binding of the bed named in PV1-3.
PCD_FED = frozenset({"ccu-bed01"})
# The deteriorating patient looks stable for this long after the simulator starts; at the demo
# time scale its breathing rate then crosses its limit and NEWS2 reaches 5 (an urgent review)
# about 20 s later, and its first alarm is raised 30-45 s after onset.
DEFAULT_ONSET_S = 5.0


@dataclass(frozen=True, slots=True)
class DemoDevice:
    """A demo device, the patient it is bound to now (None once unbound) and its simulated course."""

    device_id: str
    kind: SimulatedKind
    patient_id: uuid.UUID | None
    scenario: str
    age_years: int

    @property
    def deteriorates(self) -> bool:
        return self.scenario != "stable"


@dataclass(frozen=True, slots=True)
class _Planned:
    device_id: str
    kind: SimulatedKind
    patient: PatientPlan
    scenario: str


def monitor_of(plan: PatientPlan) -> tuple[str, SimulatedKind]:
    """The device id and kind of the monitor on an inpatient's bed, e.g. ("ward4b-bed03", "bedside_monitor")."""
    assert plan.stay is not None
    return f"{ward(plan.stay.ward).device_prefix}-bed{plan.stay.bed:02d}", "bedside_monitor"


def _planned() -> list[_Planned]:
    found = []
    for plan in INPATIENTS:
        assert plan.stay is not None
        device_id, kind = monitor_of(plan)
        found.append(_Planned(device_id, kind, plan, plan.stay.scenario))
    demo = next(p for p in OUTPATIENTS if p.is_demo_account)
    found.append(_Planned(HOME_OXIMETER, "pulse_oximeter", demo, "stable"))
    return found


async def install_monitor(
    seeding: Seeding,
    *,
    device_id: str,
    kind: SimulatedKind,
    patient_id: uuid.UUID,
    bed_id: uuid.UUID | None,
    since: datetime,
) -> None:
    """Registers a simulated device (biomedical engineering) and binds it (the nurse) from `since`."""
    device = await registry.register_device(
        session=seeding.session,
        actor=seeding.admin,
        device=DeviceCreate(
            device_id=device_id,
            kind=DeviceKind(kind),
            manufacturer=MANUFACTURER,
            model=MODELS[kind],
            serial=f"SIM-{device_id.upper()}",
            # Standard identifiers, as the admin devices page and FHIR Device show them: IEEE 11073
            # monitors name themselves by an EUI-64 (here a locally administered one, 02-...).
            eui64=demo_eui64(device_id) if kind == "bedside_monitor" else None,
            udi=DEMO_OXIMETER_UDI if kind == "pulse_oximeter" else None,
        ),
    )
    await registry.bind_device(
        session=seeding.session,
        actor=seeding.nurse,
        device_uuid=device.id,
        binding=BindingCreate(patient_id=patient_id, bed_id=bed_id, start_at=since),
    )


async def install_home_oximeter(seeding: Seeding, plan: PatientPlan) -> None:
    """The demo patient's home pulse oximeter (remote monitoring), bound to them from a week ago."""
    await install_monitor(
        seeding,
        device_id=HOME_OXIMETER,
        kind="pulse_oximeter",
        patient_id=seeding.patients[plan.key],
        bed_id=None,
        since=seeding.timeline.ago(hours=7 * 24),
    )


def demo_eui64(device_id: str) -> str:
    """A stable, locally administered EUI-64 (first octet 02) for a demo monitor."""
    return "02" + hashlib.sha256(device_id.encode()).hexdigest()[:14].upper()


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def demo_devices(*, session: AsyncSession) -> list[DemoDevice]:
    """The demo's registered devices with the patient each is bound to now (read through the registry)."""
    planned = {p.device_id: p for p in _planned()}
    bound: dict[str, uuid.UUID | None] = {}
    after: str | None = None
    while True:
        page = await registry.list_devices(session=session, actor=SYSTEM, after=after, limit=200)
        for item in page.items:
            if item.device_id in planned:
                bound[item.device_id] = item.current_binding.patient_id if item.current_binding else None
        if page.next_cursor is None:
            break
        after = page.next_cursor
    today = utc_now().date()
    return [
        DemoDevice(p.device_id, p.kind, bound[p.device_id], p.scenario, _age(p.patient.birth, today))
        for p in planned.values()
        if p.device_id in bound
    ]


def simulated_devices(
    devices: Sequence[DemoDevice],
    *,
    onset_s: float = DEFAULT_ONSET_S,
    time_scale: float = DEMO_TIME_SCALE,
) -> list[SimulatedDevice]:
    """The simulator's devices: the deteriorating course runs at `time_scale` after `onset_s`."""
    simulated = []
    for device in devices:
        intervals: dict[str, float] = {}
        if device.kind == "bedside_monitor":
            # Cuff and temperature more often than on a ward, so that they show within a demo minute.
            every = 15.0 if device.deteriorates else 60.0
            intervals = {"sbp": every, "dbp": every, "temp": every}
        simulated.append(
            SimulatedDevice(
                device_id=device.device_id,
                kind=device.kind,
                scenario=device.scenario,
                onset_s=onset_s if device.deteriorates else 0.0,
                time_scale=time_scale if device.deteriorates else 1.0,
                age_years=device.age_years,
                intervals_s=intervals,
            )
        )
    return simulated


async def bed_of_device(session: AsyncSession, device_id: str) -> tuple[str, str, str]:
    """PV1-3 for a demo monitor: its ward's code, no room, its bed's label ("" when unbound)."""
    query = (
        select(Ward.code, Bed.label)
        .join(Bed, Bed.ward_id == Ward.id)
        .join(DeviceBinding, DeviceBinding.bed_id == Bed.id)
        .join(Device, Device.id == DeviceBinding.device_uuid)
        .where(Device.device_id == device_id, DeviceBinding.end_at.is_(None))
    )
    row = (await session.execute(query.limit(1))).first()
    return (row[0], "", row[1]) if row else ("", "", "")
