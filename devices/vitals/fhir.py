"""Readings as FHIR R4 vital-signs Observations, and a searchset Bundle of them.

Each Observation follows the vital-signs profile: category `vital-signs`, the LOINC code (oxygen
saturation also carries 2708-6, which the profile requires), `valueQuantity` in UCUM, the patient as
subject and the device by its wire id. The id is derived from (device, metric, time), the reading's
own key, so the same reading always has the same Observation id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from devices.protocol import metric_spec

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
DEVICE_ID_SYSTEM = "urn:ownat:device-id"
_OBSERVATION_NAMESPACE = uuid.UUID("0f5e3c1e-2a7b-4f55-9a57-6f0e4f7b9c11")
# The base profile's specialisations by LOINC code; others claim the generic vital-signs profile.
PROFILES = {
    "8867-4": "heartrate",
    "59408-5": "oxygensat",
    "9279-1": "resprate",
    "8310-5": "bodytemp",
    "29463-7": "bodyweight",
}
# The oxygen saturation profile fixes this code; our devices report pulse oximetry (59408-5) as well.
EXTRA_CODES = {"59408-5": [("2708-6", "Oxygen saturation in Arterial blood")]}


def observation_id(device_id: str, metric: str, time: datetime) -> uuid.UUID:
    """The stable id of a reading's Observation."""
    return uuid.uuid5(_OBSERVATION_NAMESPACE, f"{device_id}|{metric}|{time.isoformat()}")


def reading_observation(
    *, patient_id: uuid.UUID, metric: str, value: float, unit: str, time: datetime, device_id: str
) -> dict[str, Any]:
    """One stored reading as an R4 Observation (a JSON-ready dict)."""
    spec = metric_spec(metric)
    codings = [{"system": LOINC, "code": spec.code, "display": spec.display}]
    codings += [
        {"system": LOINC, "code": code, "display": display}
        for code, display in EXTRA_CODES.get(spec.code, [])
    ]
    profile = PROFILES.get(spec.code, "vitalsigns")
    return {
        "resourceType": "Observation",
        "id": str(observation_id(device_id, spec.code, time)),
        "meta": {"profile": [f"http://hl7.org/fhir/StructureDefinition/{profile}"]},
        "status": "final",
        "category": [
            {
                "coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}],
                "text": "Vital Signs",
            }
        ],
        "code": {"coding": codings, "text": spec.display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": time.isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        "device": {"identifier": {"system": DEVICE_ID_SYSTEM, "value": device_id}, "display": device_id},
    }


def searchset(observations: Iterable[dict[str, Any]], *, self_url: str | None = None) -> dict[str, Any]:
    """A searchset Bundle of `observations`."""
    entries = [
        {"fullUrl": f"urn:uuid:{o['id']}", "resource": o, "search": {"mode": "match"}} for o in observations
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }
    if self_url:
        bundle["link"] = [{"relation": "self", "url": self_url}]
    return bundle
