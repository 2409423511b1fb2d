"""The channels' senders: each raises on failure and returns when the provider has accepted the message.

The front door of `notifications.channels`: the worker's senders (`notifications.senders`) reach the
channels through what is exported here.
"""

from notifications.channels.email import send_email
from notifications.channels.in_app import push as push_in_app
from notifications.channels.refusal import ProviderRefused
from notifications.channels.sms import send_sms
from notifications.channels.webhook import post_webhook

__all__ = ["ProviderRefused", "post_webhook", "push_in_app", "send_email", "send_sms"]
