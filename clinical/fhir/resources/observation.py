"""Observation: laboratory results and vital signs (recorded by hand and, when attributed, by devices)."""

from __future__ import annotations

from clinical.fhir.composite import CompositeProvider
from clinical.fhir.resources.observation_devices import DeviceVitalSource
from clinical.fhir.resources.observation_lab import LabObservationSource
from clinical.fhir.resources.observation_vitals import RecordedVitalSource


class ObservationProvider(CompositeProvider):
    resource_type = "Observation"
    documentation = (
        "category=laboratory: current lab results (patients see released ones only); "
        "category=vital-signs: vitals recorded by hand and device readings attributed to the patient "
        "(device readings only in searches naming a patient, and not readable by id)."
    )
    sources = (LabObservationSource, RecordedVitalSource, DeviceVitalSource)
