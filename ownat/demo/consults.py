"""What a clinician records in an encounter: a signed note, ranked diagnoses, prescriptions, lab
orders with their results, and a set of observations, each through its own service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from clinical import encounters, lab
from clinical.encounters import (
    DiagnosisCreate,
    Dose,
    Frequency,
    Medication,
    NoteWrite,
    PrescriptionCreate,
    PrescriptionRead,
    RecordedVitalsCreate,
    VitalInput,
)
from clinical.lab import LabOrderCreate, ResultEntries, ResultEntry
from core.principal import Principal
from ownat.demo.context import Seeding
from ownat.demo.specs import Consult, Labs, Obs, Rx

# The nurse takes the observations a few minutes into the visit; prescriptions come near its end.
OBS_AFTER = timedelta(minutes=3)
PRESCRIBED_AFTER = timedelta(minutes=12)


async def record_consult(
    seeding: Seeding,
    *,
    author: Principal,
    observer: Principal,
    encounter_id: uuid.UUID,
    patient_id: uuid.UUID,
    started: datetime,
    consult: Consult,
) -> list[PrescriptionRead]:
    """Writes the consultation into an encounter in progress; returns the prescriptions written."""
    session = seeding.session
    if consult.obs is not None:
        await record_obs(seeding, observer, encounter_id, consult.obs, started + OBS_AFTER)
    note = await encounters.write_note(
        session=session, actor=author, encounter_id=encounter_id, note=NoteWrite(text=consult.note)
    )
    await encounters.sign_note(session=session, actor=author, note_id=note.id)
    for rank, code in enumerate(consult.diagnoses, start=1):
        await encounters.add_diagnosis(
            session=session,
            actor=author,
            encounter_id=encounter_id,
            new=DiagnosisCreate(code=code, rank=rank),
        )
    # Dated as written during the visit, not when the demo was loaded.
    prescribed_at = min(started + PRESCRIBED_AFTER, seeding.timeline.now)
    written = [
        await encounters.prescribe(
            session=session, actor=author, encounter_id=encounter_id, new=_rx(rx, prescribed_at)
        )
        for rx in consult.prescriptions
    ]
    for labs in consult.labs:
        await _order(seeding, author, encounter_id, patient_id, started, labs)
    return written


async def record_obs(
    seeding: Seeding, observer: Principal, encounter_id: uuid.UUID, obs: Obs, at: datetime
) -> None:
    """One set of observations taken at `at`."""
    values = [
        ("hr", obs.hr, "/min"),
        ("sbp", obs.sbp, "mm[Hg]"),
        ("dbp", obs.dbp, "mm[Hg]"),
        ("rr", obs.rr, "/min"),
        ("spo2", obs.spo2, "%"),
        ("temp", obs.temp, "Cel"),
    ]
    if obs.weight is not None:
        values.append(("weight", obs.weight, "kg"))
    readings = [VitalInput(metric=metric, value=value, unit=unit) for metric, value, unit in values]
    await encounters.record_vitals(
        session=seeding.session,
        actor=observer,
        new=RecordedVitalsCreate(encounter_id=encounter_id, measured_at=at, readings=readings),
    )


def _rx(rx: Rx, prescribed_at: datetime) -> PrescriptionCreate:
    return PrescriptionCreate(
        prescribed_at=prescribed_at,
        medication=Medication(name=rx.medication),
        dose=Dose(quantity=Decimal(rx.dose), unit=rx.unit),
        route=rx.route,
        frequency=Frequency(
            count=rx.times, period=rx.period, period_unit=rx.period_unit, as_needed=rx.as_needed
        ),
        duration_days=rx.days,
        instructions=rx.instructions,
    )


async def _order(
    seeding: Seeding,
    author: Principal,
    encounter_id: uuid.UUID,
    patient_id: uuid.UUID,
    started: datetime,
    labs: Labs,
) -> None:
    session = seeding.session
    order = await lab.create_order(
        session=session,
        actor=author,
        new=LabOrderCreate(
            patient_id=patient_id,
            encounter_id=encounter_id,
            tests=[code for code, _ in labs.tests],
            priority=labs.priority,
            clinical_note=labs.note,
        ),
    )
    if labs.pending:
        return
    observed = started + timedelta(hours=labs.result_after_h)
    # Ranges and flags (H, L) come from the lab catalogue, by the patient's sex and age.
    entries = ResultEntries(
        results=[
            ResultEntry(loinc_code=code, value=value, observed_at=observed) for code, value in labs.tests
        ]
    )
    await lab.enter_results(session=session, actor=author, order_id=order.id, entries=entries)
