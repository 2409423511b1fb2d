"""`_summary` and `_elements`: fewer elements per resource, marked SUBSETTED as FHIR requires."""

from __future__ import annotations

from typing import Any

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
ALWAYS = ("resourceType", "id", "meta")
# The elements R4 marks as summary (isSummary) for each type served here.
SUMMARY_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifier", "active", "name", "telecom", "gender", "birthDate", "deceasedBoolean",
                "deceasedDateTime", "address", "managingOrganization", "link"),
    "Practitioner": ("identifier", "active", "name", "telecom", "address", "gender", "birthDate"),
    "Schedule": ("identifier", "active", "serviceCategory", "serviceType", "specialty", "actor",
                 "planningHorizon"),
    "Slot": ("identifier", "serviceCategory", "serviceType", "specialty", "appointmentType", "schedule",
             "status", "start", "end", "overbooked"),
    "Appointment": ("identifier", "status", "cancelationReason", "serviceCategory", "serviceType", "specialty",
                    "appointmentType", "priority", "description", "start", "end", "minutesDuration", "slot",
                    "created", "participant"),
    "Encounter": ("identifier", "status", "class", "type", "serviceType", "priority", "subject",
                  "episodeOfCare", "basedOn", "participant", "appointment", "period", "length", "reasonCode",
                  "reasonReference", "diagnosis", "account", "location", "serviceProvider", "partOf"),
    "Condition": ("identifier", "clinicalStatus", "verificationStatus", "category", "severity", "code",
                  "bodySite", "subject", "encounter", "onsetDateTime", "abatementDateTime", "recordedDate",
                  "recorder", "asserter", "stage", "evidence"),
    "AllergyIntolerance": ("identifier", "clinicalStatus", "verificationStatus", "type", "category",
                           "criticality", "code", "patient", "encounter", "onsetDateTime", "recordedDate",
                           "recorder", "asserter", "lastOccurrence"),
    "MedicationRequest": ("identifier", "status", "statusReason", "intent", "category", "priority",
                          "doNotPerform", "reportedBoolean", "medicationCodeableConcept",
                          "medicationReference", "subject", "encounter", "authoredOn", "requester",
                          "performer", "reasonCode", "reasonReference", "basedOn", "groupIdentifier",
                          "insurance", "dosageInstruction"),
    "Medication": ("identifier", "code", "status", "manufacturer", "form", "amount", "ingredient"),
    "ServiceRequest": ("identifier", "basedOn", "replaces", "requisition", "status", "intent", "category",
                       "priority", "doNotPerform", "code", "orderDetail", "subject", "encounter",
                       "occurrenceDateTime", "authoredOn", "requester", "performer", "reasonCode"),
    "DiagnosticReport": ("identifier", "basedOn", "status", "category", "code", "subject", "encounter",
                         "effectiveDateTime", "issued", "performer", "resultsInterpreter", "result",
                         "conclusionCode", "presentedForm"),
    "Observation": ("identifier", "basedOn", "partOf", "status", "category", "code", "subject", "focus",
                    "encounter", "effectiveDateTime", "issued", "performer", "valueQuantity", "valueString",
                    "valueCodeableConcept", "dataAbsentReason", "interpretation", "hasMember",
                    "derivedFrom", "component"),
    "DocumentReference": ("masterIdentifier", "identifier", "status", "docStatus", "type", "category",
                          "subject", "date", "author", "authenticator", "custodian", "relatesTo",
                          "description", "securityLabel", "content", "context"),
}  # fmt: skip


def subset(resource: dict[str, Any], *, summary: str | None, elements: list[str]) -> dict[str, Any]:
    """The resource with only what `_summary` (true, text, data, false) or `_elements` asks for."""
    if elements:
        keep = set(elements)
    elif summary == "true":
        keep = set(SUMMARY_ELEMENTS.get(resource["resourceType"], ()))
    elif summary == "text":
        keep = {"text"}
    else:
        return resource  # false, data (nothing here carries narrative) or none asked
    trimmed = {k: v for k, v in resource.items() if k in ALWAYS or k in keep}
    if trimmed == resource:
        return resource
    meta = dict(trimmed.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return {**trimmed, "meta": meta}
