"""Current admissions: a nurse admits each inpatient to their bed, the attending clinician clerks
them in an inpatient encounter left in progress, the nurses' observations follow every eight
hours, and a bedside monitor is attached to the bed."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from clinical import encounters, organisation
from clinical.encounters import EncounterClass, EncounterCreate
from clinical.organisation import AdmissionCreate
from ownat.demo.consults import record_consult, record_obs
from ownat.demo.context import Seeding
from ownat.demo.monitors import install_monitor, monitor_of
from ownat.demo.specs import Obs, PatientPlan

OBS_EVERY = timedelta(hours=8)
# Clerking starts once the patient is in the bed.
CLERKING_AFTER = timedelta(minutes=20)


async def admit(seeding: Seeding, plan: PatientPlan) -> None:
    """Admits the planned inpatient and records their stay so far."""
    stay = plan.stay
    assert stay is not None
    session = seeding.session
    patient_id = seeding.patients[plan.key]
    bed_id = seeding.beds[stay.ward, stay.bed]
    since = seeding.timeline.ago(hours=stay.hours_ago)
    await organisation.admit(
        session=session,
        actor=seeding.nurse,
        data=AdmissionCreate(
            patient_id=patient_id,
            bed_id=bed_id,
            start_at=since,
            reason=stay.reason,
            attending_practitioner_id=seeding.practitioners[stay.attending],
        ),
    )
    clerked = since + CLERKING_AFTER
    author = seeding.clinician(stay.attending)
    encounter = await encounters.create_encounter(
        session=session,
        actor=author,
        new=EncounterCreate(
            patient_id=patient_id,
            encounter_class=EncounterClass.INPATIENT,
            reason=stay.reason,
            started_at=clerked,
        ),
    )
    await record_consult(
        seeding,
        author=author,
        observer=seeding.nurse,
        encounter_id=encounter.id,
        patient_id=patient_id,
        started=clerked,
        consult=stay.consult,
    )
    if stay.consult.obs is not None:
        await _ward_observations(seeding, plan.key, encounter.id, stay.consult.obs, clerked)
    device_id, kind = monitor_of(plan)
    await install_monitor(
        seeding, device_id=device_id, kind=kind, patient_id=patient_id, bed_id=bed_id, since=since
    )


async def _ward_observations(
    seeding: Seeding, key: str, encounter_id: uuid.UUID, first: Obs, clerked: datetime
) -> None:
    # Seeded by the patient's key: the same demo gets the same charts on every machine.
    rng = random.Random(key)  # noqa: S311 - demo data, not security
    at = clerked + OBS_EVERY
    latest = seeding.timeline.ago(hours=0.5)
    while at <= latest:
        obs = Obs(
            hr=round(first.hr + rng.uniform(-6, 4)),
            sbp=round(first.sbp + rng.uniform(-8, 8)),
            dbp=round(first.dbp + rng.uniform(-5, 5)),
            rr=max(12, round(first.rr + rng.uniform(-3, 1))),
            spo2=min(100, round(first.spo2 + rng.uniform(-1, 2))),
            temp=round(first.temp + rng.uniform(-0.5, 0.2), 1),
        )
        await record_obs(seeding, seeding.nurse, encounter_id, obs, at)
        at += OBS_EVERY
