"""Registers the demo patients and their charts: allergies, ICD-10 problem list, medications."""

from __future__ import annotations

import uuid

from clinical import patients
from clinical.patients import AllergyCreate, ConditionCreate, MedicationCreate, PatientCreate, PatientUpdate
from ownat.demo.context import Seeding
from ownat.demo.specs import Contact, PatientPlan


def _contact(contact: Contact) -> dict[str, str | None]:
    return {
        "phone": contact.phone,
        "city": contact.city,
        "country": contact.country,
        "preferred_language": contact.language,
        "emergency_contact_name": contact.emergency_name,
        "emergency_contact_relationship": contact.emergency_relationship,
        "emergency_contact_phone": contact.emergency_phone,
    }


async def register(seeding: Seeding, plan: PatientPlan) -> uuid.UUID:
    """The patient's record: registered by the clinic, or the demo account's own record completed."""
    session, admin = seeding.session, seeding.admin
    if plan.is_demo_account:
        patient_id = seeding.patient_account.patient_id
        assert patient_id is not None  # a patient account always owns a record id
        changes = PatientUpdate(
            given_name=plan.given,
            family_name=plan.family,
            birth_date=plan.birth,
            gender=plan.gender,
            **_contact(plan.contact),
        )
        await patients.update_patient(
            session=session, principal=admin, patient_id=patient_id, changes=changes
        )
    else:
        data = PatientCreate(
            given_name=plan.given,
            family_name=plan.family,
            birth_date=plan.birth,
            gender=plan.gender,
            **_contact(plan.contact),
        )
        patient_id = (await patients.create_patient(session=session, actor=admin, data=data)).id
    seeding.patients[plan.key] = patient_id
    await _chart(seeding, plan, patient_id)
    return patient_id


async def _chart(seeding: Seeding, plan: PatientPlan, patient_id: uuid.UUID) -> None:
    session = seeding.session
    clinician = seeding.clinician(plan.recorded_by)
    # On the ward the admitting nurse reconciles allergies and medicines; in clinic the doctor does.
    history_taker = seeding.nurse if plan.stay else clinician
    for allergy in plan.allergies:
        await patients.add_allergy(
            session=session,
            principal=history_taker,
            patient_id=patient_id,
            data=AllergyCreate(
                substance_text=allergy.substance,
                category=allergy.category,
                criticality=allergy.criticality,
                reaction=allergy.reaction,
            ),
        )
    for problem in plan.problems:
        await patients.add_condition(
            session=session,
            principal=clinician,
            patient_id=patient_id,
            data=ConditionCreate(
                icd10_code=problem.icd10,
                clinical_status=problem.status,
                onset_date=problem.onset,
                note=problem.note,
            ),
        )
    for med in plan.meds:
        await patients.add_medication(
            session=session,
            principal=history_taker,
            patient_id=patient_id,
            data=MedicationCreate(name=med.name, dose_text=med.dose, route=med.route, started_on=med.started),
        )
