"""The Subscription resource (R4 with the backport extensions) read from clients and written back.

A client names the topic in `criteria`, narrows it with the `backport-filter-criteria` extension
(`Observation?patient=Patient/<id>` or `Observation?ward=<ward id>`), and chooses the channel
(`rest-hook` or `websocket`), the payload content (`empty`, `id-only`, `full-resource`) and the
heartbeat period with the backport extensions. Anything else it sends that we do not honour is
refused with the field named, rather than silently ignored.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clinical.fhir import InvalidResource
from realtime.subscriptions.models import FhirSubscription
from realtime.subscriptions.topics import Topic, topic_by_url

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
SUBSCRIPTION_PROFILE = BACKPORT + "backport-subscription"
SIGNING_SECRET = "http://ownat.org/fhir/StructureDefinition/subscription-signing-secret"  # noqa: S105 (a URL)
CHANNEL_TYPES = ("rest-hook", "websocket")
CONTENTS = ("empty", "id-only", "full-resource")
PAYLOAD_TYPE = "application/fhir+json"
MAX_HEARTBEAT_S = 3600
MIN_HEARTBEAT_S = 1
# Headers a client may not set on our POSTs: framing, routing and our own signature.
RESERVED_HEADERS = re.compile(r"^(host|content-.*|transfer-encoding|connection|x-ownat-.*)$", re.I)
HEADER_LINE = re.compile(r"^([A-Za-z0-9-]{1,64}):\s?([\x20-\x7e]{0,1000})$")


@dataclass(slots=True)
class SubscriptionSpec:
    """What a client asked for, checked."""

    topic: Topic
    criteria: str
    channel_type: str
    content: str
    patient_id: uuid.UUID | None = None
    ward_id: uuid.UUID | None = None
    endpoint: str | None = None
    headers: list[str] = field(default_factory=list)
    heartbeat_period_s: int | None = None
    end_at: datetime | None = None
    reason: str | None = None


def _extension(element: Any, url: str) -> dict[str, Any] | None:
    if not isinstance(element, dict):
        return None
    for item in element.get("extension") or []:
        if isinstance(item, dict) and item.get("url") == url:
            return item
    return None


def _refuse(path: str, message: str) -> InvalidResource:
    return InvalidResource(f"Subscription.{path}: {message}")


def parse_subscription(body: Any) -> SubscriptionSpec:
    """The checked request of a Subscription create; InvalidResource names the first bad field."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        raise InvalidResource("The body must be a Subscription resource.")
    topic = topic_by_url(str(body.get("criteria") or ""))
    if topic is None:
        raise _refuse("criteria", "name one of this server's SubscriptionTopic URLs (GET SubscriptionTopic).")
    criteria, patient_id, ward_id = _filter(body.get("_criteria"), topic)
    channel = body.get("channel")
    if not isinstance(channel, dict):
        raise _refuse("channel", "is required.")
    channel_type = (channel.get("type") or "") if isinstance(channel.get("type"), str) else ""
    if channel_type not in CHANNEL_TYPES:
        raise _refuse("channel.type", f"must be one of {', '.join(CHANNEL_TYPES)}.")
    payload = channel.get("payload", PAYLOAD_TYPE)
    if payload not in (PAYLOAD_TYPE, "application/json"):
        raise _refuse("channel.payload", f"must be {PAYLOAD_TYPE}.")
    content_extension = _extension(channel.get("_payload"), PAYLOAD_CONTENT)
    content = content_extension.get("valueCode") if content_extension else "id-only"
    if content not in CONTENTS:
        raise _refuse("channel.payload content", f"must be one of {', '.join(CONTENTS)}.")
    spec = SubscriptionSpec(
        topic=topic,
        criteria=criteria,
        channel_type=channel_type,
        content=content,
        patient_id=patient_id,
        ward_id=ward_id,
        heartbeat_period_s=_heartbeat(channel),
        reason=str(body["reason"])[:500] if body.get("reason") else None,
        end_at=_end(body.get("end")),
    )
    if channel_type == "rest-hook":
        endpoint = channel.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise _refuse("channel.endpoint", "is required for a rest-hook.")
        spec.endpoint = endpoint
        spec.headers = _headers(channel.get("header"))
    elif channel.get("endpoint") or channel.get("header"):
        raise _refuse("channel.endpoint", "a websocket subscription takes no endpoint or headers.")
    return spec


def _filter(element: Any, topic: Topic) -> tuple[str, uuid.UUID | None, uuid.UUID | None]:
    extension = _extension(element, FILTER_CRITERIA)
    text = extension.get("valueString") if extension else None
    if not text:
        if topic.filter_required:
            raise _refuse("criteria filter", f"the {topic.key} topic needs a filter: {_filter_help(topic)}.")
        return "", None, None
    resource_type, _, query = str(text).partition("?")
    name, _, value = query.partition("=")
    if resource_type != topic.resource_type or name not in topic.filters or "&" in value:
        raise _refuse("criteria filter", f"give exactly one filter: {_filter_help(topic)}.")
    target = _uuid(value.removeprefix("Patient/") if name == "patient" else value)
    if target is None:
        raise _refuse("criteria filter", f"'{value}' does not name a {name}.")
    if name == "patient":
        return text, target, None
    return text, None, target


def _filter_help(topic: Topic) -> str:
    forms = {
        "patient": f"{topic.resource_type}?patient=Patient/<id>",
        "ward": f"{topic.resource_type}?ward=<id>",
    }
    return " or ".join(forms[name] for name in topic.filters)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _heartbeat(channel: dict[str, Any]) -> int | None:
    extension = _extension(channel, HEARTBEAT_PERIOD)
    if extension is None:
        return None
    value = extension.get("valueUnsignedInt")
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not MIN_HEARTBEAT_S <= value <= MAX_HEARTBEAT_S
    ):
        raise _refuse("channel heartbeat period", f"must be {MIN_HEARTBEAT_S} to {MAX_HEARTBEAT_S} seconds.")
    return value


def _headers(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 10:
        raise _refuse("channel.header", "must be a list of at most 10 'Name: value' lines.")
    for line in value:
        match = HEADER_LINE.match(line) if isinstance(line, str) else None
        if match is None or RESERVED_HEADERS.match(match.group(1)):
            raise _refuse("channel.header", f"'{line}' is not a header this server may send.")
    return list(value)


def _end(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _refuse("end", "must be an instant with a time zone.") from None
    if moment.tzinfo is None:
        raise _refuse("end", "must be an instant with a time zone.")
    return moment


def subscription_resource(row: FhirSubscription, *, secret: bool = False) -> dict[str, Any]:
    """The stored subscription as an R4 Subscription; the signing secret only when `secret`."""
    channel: dict[str, Any] = {"type": row.channel_type, "payload": PAYLOAD_TYPE}
    channel["_payload"] = {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": row.content}]}
    if row.heartbeat_period_s:
        channel["extension"] = [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": row.heartbeat_period_s}]
    if row.endpoint:
        channel["endpoint"] = row.endpoint
    if row.headers:
        channel["header"] = list(row.headers)
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(row.id),
        "meta": {"profile": [SUBSCRIPTION_PROFILE], "lastUpdated": row.updated_at.isoformat()},
        "status": row.status,
        "reason": row.reason or f"Notifications of the {row.topic} topic",
        "criteria": row.topic,
        "channel": channel,
    }
    if row.criteria:
        resource["_criteria"] = {"extension": [{"url": FILTER_CRITERIA, "valueString": row.criteria}]}
    if row.end_at:
        resource["end"] = row.end_at.isoformat()
    if row.error:
        resource["error"] = row.error
    if secret and row.channel_type == "rest-hook":
        resource["extension"] = [{"url": SIGNING_SECRET, "valueString": row.secret}]
    return resource
