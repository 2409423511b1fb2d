"""What the CapabilityStatement says of subscriptions: Subscription, SubscriptionTopic, the topics."""

from __future__ import annotations

from typing import Any

from realtime.subscriptions.resource import BACKPORT, SUBSCRIPTION_PROFILE
from realtime.subscriptions.topics import TOPICS

INSTANTIATES = (
    "http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/backport-subscription-server-r4"
)
OPERATIONS = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
TOPIC_CANONICAL = BACKPORT + "capabilitystatement-subscriptiontopic-canonical"


def subscription_resources() -> list[dict[str, Any]]:
    """The Subscription and SubscriptionTopic entries of the CapabilityStatement."""
    operations = [
        ("status", "backport-subscription-status", "The subscription's SubscriptionStatus (query-status)."),
        (
            "events",
            "backport-subscription-events",
            "Recorded events: eventsSinceNumber, eventsUntilNumber, content.",
        ),
        (
            "get-ws-binding-token",
            "backport-subscription-get-ws-binding-token",
            "A token to bind a websocket.",
        ),
    ]
    subscription = {
        "type": "Subscription",
        "supportedProfile": [SUBSCRIPTION_PROFILE],
        "extension": [{"url": TOPIC_CANONICAL, "valueCanonical": topic.url} for topic in TOPICS],
        "documentation": (
            "Topic-based (R4B backport). Channels: rest-hook (https to public addresses; POSTs signed "
            "X-Ownat-Signature sha256 HMAC of '<X-Ownat-Timestamp>.<body>' with the secret returned once "
            "at creation, retried with backoff; handshake first, heartbeats when asked) and websocket "
            "(bind-with-token, handshake, heartbeats). Content: empty, id-only, full-resource. "
            "Notification Bundles are R4B subscription-notification Bundles with a SubscriptionStatus. "
            "One filter per subscription: patient=Patient/<id>, or ward=<id> for vital-signs and alarms. "
            "SMART apps need scopes on Subscription (c create; r read, $status, $events, "
            "$get-ws-binding-token; s search; d delete) and r or s on the topic's focus type; patient/ "
            "scopes keep an app to its launch patient, and events are filtered by the app's scopes until "
            "its authorisation ends, which turns the subscription off."
        ),
        "interaction": [{"code": code} for code in ("create", "read", "delete", "search-type")],
        "operation": [
            {
                "name": name,
                "definition": OPERATIONS + definition,
                "documentation": text,
            }
            for name, definition, text in operations
        ],
    }
    topic = {
        "type": "SubscriptionTopic",
        "documentation": "The topics one can subscribe to, by canonical URL.",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
    }
    return [subscription, topic]
