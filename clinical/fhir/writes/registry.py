"""The resource types written through FHIR, each by its writer."""

from __future__ import annotations

from clinical.fhir.writes.appointment import AppointmentWriter
from clinical.fhir.writes.base import Writer
from clinical.fhir.writes.document import DocumentReferenceWriter
from clinical.fhir.writes.observation import ObservationWriter
from clinical.fhir.writes.patient import PatientWriter
from clinical.fhir.writes.records import AllergyWriter, ConditionWriter

WRITERS: tuple[type[Writer], ...] = (
    PatientWriter,
    AllergyWriter,
    ConditionWriter,
    ObservationWriter,
    AppointmentWriter,
    DocumentReferenceWriter,
)


def writer_for(resource_type: str) -> Writer | None:
    """The writer of `resource_type`, or None when the type is read-only here."""
    found = next((w for w in WRITERS if w.resource_type == resource_type), None)
    return found() if found else None
