"""The SubscriptionTopics this server raises events for, by canonical URL, and their R4B resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TOPIC_BASE = "http://ownat.org/fhir/SubscriptionTopic/"


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    title: str
    description: str
    resource_type: str  # the focus of each event
    filters: tuple[str, ...]  # the filter parameters accepted (`patient`, `ward`)
    interactions: tuple[str, ...]
    # Vital signs and alarms stream too much to subscribe to the whole hospital: a filter is required.
    filter_required: bool

    @property
    def url(self) -> str:
        return TOPIC_BASE + self.key


VITAL_SIGNS = Topic(
    "vital-signs",
    "New vital signs",
    "A vital-sign Observation was stored: a device reading attributed to the patient (live, within a "
    "second of its commit). Filter by patient or by ward.",
    "Observation",
    ("patient", "ward"),
    ("create",),
    True,
)
ALARMS = Topic(
    "alarms",
    "Alarms raised and acknowledged",
    "A clinical or technical alarm was raised or acknowledged. The focus is a DetectedIssue carried in "
    "the notification (full-resource); it is not served for reading. Filter by patient or by ward.",
    "DetectedIssue",
    ("patient", "ward"),
    ("create", "update"),
    True,
)
APPOINTMENTS = Topic(
    "appointments",
    "Appointments booked, changed or cancelled",
    "An Appointment was booked (create), rescheduled or cancelled (update). Filter by patient.",
    "Appointment",
    ("patient",),
    ("create", "update"),
    False,
)
LAB_RESULTS = Topic(
    "lab-results",
    "Lab results filed",
    "A laboratory report became final or was corrected (its DiagnosticReport). Filter by patient.",
    "DiagnosticReport",
    ("patient",),
    ("create", "update"),
    False,
)
TOPICS: tuple[Topic, ...] = (VITAL_SIGNS, ALARMS, APPOINTMENTS, LAB_RESULTS)
_BY_URL = {topic.url: topic for topic in TOPICS}
_BY_KEY = {topic.key: topic for topic in TOPICS}


def topic_by_url(url: str) -> Topic | None:
    return _BY_URL.get(url)


def topic_by_key(key: str) -> Topic | None:
    return _BY_KEY.get(key)


def topic_resource(topic: Topic) -> dict[str, Any]:
    """The R4B SubscriptionTopic resource of `topic`."""
    filters = {
        "patient": "Patient/<id>: events about this patient only.",
        "ward": "<ward id>: events about the patients of this ward (staff only).",
    }
    return {
        "resourceType": "SubscriptionTopic",
        "id": topic.key,
        "url": topic.url,
        "title": topic.title,
        "status": "active",
        "description": topic.description,
        "resourceTrigger": [
            {
                "description": topic.description,
                "resource": f"http://hl7.org/fhir/StructureDefinition/{topic.resource_type}",
                "supportedInteraction": list(topic.interactions),
            }
        ],
        "canFilterBy": [
            {"resource": topic.resource_type, "filterParameter": name, "description": filters[name]}
            for name in topic.filters
        ],
        "notificationShape": [{"resource": topic.resource_type}],
    }
