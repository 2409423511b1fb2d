"""Patients: demographics, identifiers (MRN and external), allergies, conditions and current medications.

This module is the front door: other packages import the services, schemas and terms below from
here. `Patient` and its record tables are exported for the joins other domains make on a patient.
"""

from clinical.patients.access import ensure_patient_access, load_patient
from clinical.patients.allergies import add_allergy, list_allergies, remove_allergy, update_allergy
from clinical.patients.conditions import add_condition, list_conditions, remove_condition, update_condition
from clinical.patients.exceptions import RecordNotFound
from clinical.patients.identifiers import (
    add_identifier,
    list_identifiers,
    remove_identifier,
    update_identifier,
)
from clinical.patients.medications import (
    add_medication,
    list_medications,
    remove_medication,
    update_medication,
)

# ORM models, exposed for joins: nearly every domain joins on the patient (billing accounts and
# invoices, device assignments, alarms, appointments, encounters, FHIR resources).
from clinical.patients.models import Allergy, Condition, Patient, PatientIdentifier
from clinical.patients.names import format_mrn, name_key
from clinical.patients.record_schemas import (
    AllergyCreate,
    AllergyRead,
    AllergyUpdate,
    ConditionCreate,
    ConditionRead,
    ConditionUpdate,
    IdentifierCreate,
    IdentifierRead,
    IdentifierUpdate,
    MedicationCreate,
    MedicationRead,
    MedicationUpdate,
)
from clinical.patients.schemas import PatientCreate, PatientPage, PatientRead, PatientUpdate
from clinical.patients.search import DEFAULT_PAGE_SIZE as DEFAULT_PATIENT_PAGE_SIZE
from clinical.patients.search import MAX_PAGE_SIZE as MAX_PATIENT_PAGE_SIZE
from clinical.patients.search import PatientQuery, patients_matching, search_patients
from clinical.patients.service import (
    check_online_registration,
    create_patient,
    get_patient,
    register_online_patient,
    update_patient,
)
from clinical.patients.terms import (
    AdministrativeGender,
    AllergyCategory,
    AllergyCriticality,
    AllergyStatus,
    ConditionStatus,
)

__all__ = [
    "DEFAULT_PATIENT_PAGE_SIZE",
    "MAX_PATIENT_PAGE_SIZE",
    "AdministrativeGender",
    "Allergy",
    "AllergyCategory",
    "AllergyCreate",
    "AllergyCriticality",
    "AllergyRead",
    "AllergyStatus",
    "AllergyUpdate",
    "Condition",
    "ConditionCreate",
    "ConditionRead",
    "ConditionStatus",
    "ConditionUpdate",
    "IdentifierCreate",
    "IdentifierRead",
    "IdentifierUpdate",
    "MedicationCreate",
    "MedicationRead",
    "MedicationUpdate",
    "Patient",
    "PatientCreate",
    "PatientIdentifier",
    "PatientPage",
    "PatientQuery",
    "PatientRead",
    "PatientUpdate",
    "RecordNotFound",
    "add_allergy",
    "add_condition",
    "add_identifier",
    "add_medication",
    "check_online_registration",
    "create_patient",
    "ensure_patient_access",
    "format_mrn",
    "get_patient",
    "list_allergies",
    "list_conditions",
    "list_identifiers",
    "list_medications",
    "load_patient",
    "name_key",
    "patients_matching",
    "register_online_patient",
    "remove_allergy",
    "remove_condition",
    "remove_identifier",
    "remove_medication",
    "search_patients",
    "update_allergy",
    "update_condition",
    "update_identifier",
    "update_medication",
    "update_patient",
]
