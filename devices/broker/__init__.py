"""MQTT broker plumbing: the embedded broker of `ownat dev` and the readiness probe for any broker.

`embedded` runs a small MQTT 3.1.1 broker inside the event loop; `probe` checks that a broker
answers a real CONNECT. Both share the wire codec in `framing` and `packets`.

Offers `EmbeddedBroker` and `probe_broker`.
"""

from devices.broker.embedded import EmbeddedBroker
from devices.broker.probe import probe_broker

__all__ = [
    "EmbeddedBroker",
    "probe_broker",
]
