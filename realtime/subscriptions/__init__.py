"""FHIR Subscriptions (R4B topic-based, the backport profile R4 clients use): topics, subscriptions,
notification Bundles, the websocket and rest-hook channels, fed by the bus and the outbox.

Live vitals and alarms come from the bus in each api process (`dispatcher`), appointments and lab
results from the outbox in `ownat worker` (`feed`); both record numbered events once per
subscription (a unique key keeps several instances from recording one twice), publish the
notification on `fhir.subscription.<id>` for websockets and queue it for rest-hooks (`hooks`).

The front door of `realtime.subscriptions`: the services of the FHIR routes, the topics, what the
CapabilityStatement says, the dispatcher and websocket the api runs, and the jobs of `ownat worker`.
"""

from __future__ import annotations

from realtime.subscriptions.capability import INSTANTIATES, subscription_resources

# The api's side: the bus dispatcher and the websocket channel.
from realtime.subscriptions.dispatcher import SubscriptionDispatcher

# `ownat worker`: the outbox feed and rest-hook deliveries.
from realtime.subscriptions.jobs import SubscriptionJobs
from realtime.subscriptions.resource import FILTER_CRITERIA, PAYLOAD_CONTENT

# Services of the FHIR routes.
from realtime.subscriptions.service import (
    binding_token,
    create_subscription,
    delete_subscription,
    read_subscription,
    search_subscriptions,
    subscription_events,
    subscription_status_of,
)

# Topics and the Subscription resource's vocabulary.
from realtime.subscriptions.topics import TOPICS, VITAL_SIGNS, topic_by_key, topic_resource
from realtime.subscriptions.websocket import serve_socket

__all__ = [
    "FILTER_CRITERIA",
    "INSTANTIATES",
    "PAYLOAD_CONTENT",
    "TOPICS",
    "VITAL_SIGNS",
    "SubscriptionDispatcher",
    "SubscriptionJobs",
    "binding_token",
    "create_subscription",
    "delete_subscription",
    "read_subscription",
    "search_subscriptions",
    "serve_socket",
    "subscription_events",
    "subscription_resources",
    "subscription_status_of",
    "topic_by_key",
    "topic_resource",
]
