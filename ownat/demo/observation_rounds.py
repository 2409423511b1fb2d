"""The ward's latest observation rounds: recent full NEWS2 sets charted by the nurses, and the one
patient on SpO2 scale 2, so that the dashboard shows complete scores and the time since each set.

Most beds had a set within their band's interval; Ingrid Larsen (new confusion, so hourly) and
Carmen García (no full set since admission) show "Observations overdue", as a real ward would.
"""

from __future__ import annotations

from dataclasses import dataclass

from ownat.demo.context import Seeding
from ownat.demo.specs import PatientPlan
from realtime import alarms
from realtime.alarms import Consciousness, ObservationSetCreate, OxygenDevice, SpO2ScaleSet


@dataclass(frozen=True, slots=True)
class Round:
    hours_ago: float
    consciousness: Consciousness = Consciousness.ALERT
    oxygen: tuple[OxygenDevice, float] | None = None  # device and flow (L/min); None: breathing air


ROUNDS = {
    "obrien": Round(0.8, oxygen=(OxygenDevice.NASAL_CANNULA, 2)),
    "mensah": Round(1.5, oxygen=(OxygenDevice.VENTURI_MASK, 4)),
    "rossi": Round(1.2),
    "volkov": Round(3),
    "alsayed": Round(2.5),
    "zhang": Round(0.6),
    "larsen": Round(2.2, consciousness=Consciousness.NEW_CONFUSION),
    "iyer": Round(1),
    "muller": Round(0.5, oxygen=(OxygenDevice.NASAL_CANNULA, 2)),
}
# Controlled oxygen for hypercapnic COPD: the attending moves him to scale 2 (RCP NEWS2, 2017).
SCALE_2 = {"mensah": "Hypercapnic COPD exacerbation on the admission gas: prescribed target SpO2 88-92%"}


async def chart_rounds(seeding: Seeding, inpatients: tuple[PatientPlan, ...]) -> None:
    """Each planned patient's latest full set, from their admission observations, by the demo nurse."""
    for plan in inpatients:
        stay = plan.stay
        assert stay is not None
        patient_id = seeding.patients[plan.key]
        if plan.key in SCALE_2:
            await alarms.set_scale(
                session=seeding.session,
                principal=seeding.clinician(stay.attending),
                patient_id=patient_id,
                choice=SpO2ScaleSet(scale=2, reason=SCALE_2[plan.key]),
                now=seeding.timeline.ago(hours=40),
            )
        done = ROUNDS.get(plan.key)
        obs = stay.consult.obs
        if done is None or obs is None:
            continue
        device, flow = done.oxygen if done.oxygen else (None, None)
        await alarms.record_full_set(
            session=seeding.session,
            principal=seeding.nurse,
            patient_id=patient_id,
            data=ObservationSetCreate(
                respiration_rate=obs.rr,
                spo2=obs.spo2,
                on_oxygen=done.oxygen is not None,
                oxygen_device=device,
                oxygen_flow_l_min=flow,
                systolic_bp=obs.sbp,
                diastolic_bp=obs.dbp,
                pulse=obs.hr,
                consciousness=done.consciousness,
                temperature_c=obs.temp,
                recorded_at=seeding.timeline.ago(hours=done.hours_ago),
            ),
            now=seeding.timeline.now,
        )
