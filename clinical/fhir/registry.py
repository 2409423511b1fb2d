"""The resource types served, each by its provider; the CapabilityStatement is generated from here."""

from __future__ import annotations

from clinical.fhir.provider import ResourceProvider
from clinical.fhir.resources.allergy import AllergyIntoleranceProvider
from clinical.fhir.resources.appointment import AppointmentProvider
from clinical.fhir.resources.condition import ConditionProvider
from clinical.fhir.resources.device import DeviceMetricProvider, DeviceProvider
from clinical.fhir.resources.diagnostic_report import DiagnosticReportProvider
from clinical.fhir.resources.document_reference import DocumentReferenceProvider
from clinical.fhir.resources.encounter import EncounterProvider
from clinical.fhir.resources.medication import MedicationProvider
from clinical.fhir.resources.medication_request import MedicationRequestProvider
from clinical.fhir.resources.observation import ObservationProvider
from clinical.fhir.resources.patient import PatientProvider
from clinical.fhir.resources.practitioner import PractitionerProvider
from clinical.fhir.resources.schedule import ScheduleProvider
from clinical.fhir.resources.service_request import ServiceRequestProvider
from clinical.fhir.resources.slot import SlotProvider

# In the order `$everything` lists resources: the patient first, then their care, then results.
PROVIDERS: tuple[type[ResourceProvider], ...] = (
    PatientProvider,
    PractitionerProvider,
    ScheduleProvider,
    SlotProvider,
    AppointmentProvider,
    EncounterProvider,
    ConditionProvider,
    AllergyIntoleranceProvider,
    MedicationRequestProvider,
    MedicationProvider,
    ServiceRequestProvider,
    DiagnosticReportProvider,
    ObservationProvider,
    DocumentReferenceProvider,
    DeviceProvider,
    DeviceMetricProvider,
)


def providers() -> tuple[ResourceProvider, ...]:
    """A provider of each served type (providers are stateless; a fresh one costs nothing)."""
    return tuple(provider() for provider in PROVIDERS)


def provider_for(resource_type: str) -> ResourceProvider | None:
    """The provider of `resource_type` (exact FHIR spelling), or None."""
    found = next((p for p in PROVIDERS if p.resource_type == resource_type), None)
    return found() if found else None
