"""Consultations: encounters (from an appointment or walk-in) and what happens in them.

Sub-packages hold the clinical content of an encounter: signed notes with addenda, ICD-10
diagnoses, prescriptions and manually recorded vitals. Each is scoped by the caller's principal.

This module is the front door: other packages import the services, schemas and access checks below
from here, and the ORM models they join on.
"""

from clinical.encounters.access import (
    load_encounter,
    load_patient,
    practitioner_of,
    require_patient_scope,
    require_role,
)
from clinical.encounters.agenda import Agenda, agenda
from clinical.encounters.appointments import OPENABLE

# ORM model, exposed for joins: insurance claims and FHIR Conditions join on diagnoses.
from clinical.encounters.diagnoses.models import Diagnosis
from clinical.encounters.diagnoses.schemas import DiagnosisCreate, DiagnosisRead
from clinical.encounters.diagnoses.service import add_diagnosis, list_diagnoses, remove_diagnosis

# ORM model, exposed for joins: billing charges and claims, lab orders, consult rooms and FHIR
# resources join on the encounter.
from clinical.encounters.models import Encounter, EncounterClass, EncounterStatus
from clinical.encounters.notes.schemas import AddendumRead, NoteRead, NoteWrite
from clinical.encounters.notes.service import (
    add_addendum,
    get_note,
    list_notes,
    revise_note,
    sign_note,
    write_note,
)

# ORM model, exposed for joins: FHIR MedicationRequests read prescriptions.
from clinical.encounters.prescriptions.models import DoseUnit, PeriodUnit, Prescription, Route
from clinical.encounters.prescriptions.schemas import (
    Dose,
    Frequency,
    Medication,
    PrescriptionCreate,
    PrescriptionFilter,
    PrescriptionRead,
    PrescriptionStatusChange,
)
from clinical.encounters.prescriptions.service import change_status as change_prescription_status
from clinical.encounters.prescriptions.service import get_prescription, list_prescriptions, prescribe

# ORM model, exposed for joins: alarm observation sets and FHIR Observations read recorded vitals.
from clinical.encounters.recorded_vitals.models import RecordedVital
from clinical.encounters.recorded_vitals.schemas import (
    RecordedVitalFilter,
    RecordedVitalRead,
    RecordedVitalsCreate,
    VitalInput,
)
from clinical.encounters.recorded_vitals.service import list_recorded_vitals, record_vitals
from clinical.encounters.schemas import (
    EncounterCancel,
    EncounterCreate,
    EncounterFilter,
    EncounterFinish,
    EncounterRead,
    EncounterStart,
    PastTime,
)
from clinical.encounters.service import (
    cancel_encounter,
    create_encounter,
    finish_encounter,
    get_encounter,
    list_encounters,
    start_encounter,
)

__all__ = [
    "OPENABLE",
    "AddendumRead",
    "Agenda",
    "Diagnosis",
    "DiagnosisCreate",
    "DiagnosisRead",
    "Dose",
    "DoseUnit",
    "Encounter",
    "EncounterCancel",
    "EncounterClass",
    "EncounterCreate",
    "EncounterFilter",
    "EncounterFinish",
    "EncounterRead",
    "EncounterStart",
    "EncounterStatus",
    "Frequency",
    "Medication",
    "NoteRead",
    "NoteWrite",
    "PastTime",
    "PeriodUnit",
    "Prescription",
    "PrescriptionCreate",
    "PrescriptionFilter",
    "PrescriptionRead",
    "PrescriptionStatusChange",
    "RecordedVital",
    "RecordedVitalFilter",
    "RecordedVitalRead",
    "RecordedVitalsCreate",
    "Route",
    "VitalInput",
    "add_addendum",
    "add_diagnosis",
    "agenda",
    "cancel_encounter",
    "change_prescription_status",
    "create_encounter",
    "finish_encounter",
    "get_encounter",
    "get_note",
    "get_prescription",
    "list_diagnoses",
    "list_encounters",
    "list_notes",
    "list_prescriptions",
    "list_recorded_vitals",
    "load_encounter",
    "load_patient",
    "practitioner_of",
    "prescribe",
    "record_vitals",
    "remove_diagnosis",
    "require_patient_scope",
    "require_role",
    "revise_note",
    "sign_note",
    "start_encounter",
    "write_note",
]
