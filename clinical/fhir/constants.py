"""Code systems, media types and limits used across the FHIR mapping."""

from __future__ import annotations

FHIR_VERSION = "4.0.1"
FHIR_MEDIA_TYPE = "application/fhir+json"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DIAGNOSTIC_SERVICE_SECTION = "http://terminology.hl7.org/CodeSystem/v2-0074"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ROUTE_OF_ADMINISTRATION = "http://snomed.info/sct"
APPOINTMENT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
PRACTITIONER_SPECIALTY = "https://ownat.org/fhir/CodeSystem/specialty"
SERVICE_TYPE = "https://ownat.org/fhir/CodeSystem/appointment-type"
DOCUMENT_KIND = "https://ownat.org/fhir/CodeSystem/document-kind"
# How a vital sign was obtained: "manual" (charted by staff), "patient-reported"; devices name the device.
OBSERVATION_METHOD = "https://ownat.org/fhir/CodeSystem/observation-method"
PLACER_ORDER_SYSTEM = "https://ownat.org/fhir/sid/placer-order-number"
MRN_SYSTEM = "https://ownat.org/fhir/sid/mrn"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
FILLER_ORDER_SYSTEM = "https://ownat.org/fhir/sid/filler-order-number"
# The code systems of FHIR's own required bindings (the `system` a token search may name).
ADMINISTRATIVE_GENDER = "http://hl7.org/fhir/administrative-gender"
APPOINTMENT_STATUS = "http://hl7.org/fhir/appointmentstatus"
ENCOUNTER_STATUS = "http://hl7.org/fhir/encounter-status"
MEDICATION_REQUEST_STATUS = "http://hl7.org/fhir/CodeSystem/medicationrequest-status"
REQUEST_STATUS = "http://hl7.org/fhir/request-status"
DIAGNOSTIC_REPORT_STATUS = "http://hl7.org/fhir/diagnostic-report-status"
OBSERVATION_STATUS = "http://hl7.org/fhir/observation-status"
SLOT_STATUS = "http://hl7.org/fhir/slotstatus"
DOCUMENT_REFERENCE_STATUS = "http://hl7.org/fhir/document-reference-status"

# A page never holds more than this, whatever `_count` asks for: keeps responses and audit entries bounded.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# `$everything` is a bounded export: each resource type contributes at most this many entries.
EVERYTHING_LIMIT_PER_TYPE = 1000
