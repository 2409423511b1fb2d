"""The end-to-end acknowledgements a worker publishes after each commit (see `devices.protocol`).

Per device, the seqs of the messages just committed (readings stored, statuses and events
processed, refusals kept as dead letters), published retained at QoS 0 on the device's `.../ack`
topic. QoS 0 is enough: an acknowledgement that is lost (the broker restarting, the worker dying
right after its commit) only makes the sender send those messages again, and storage ignores the
copies; their commit then acknowledges them once more. Retained, a sender that reconnects learns at
once the last acknowledgement it missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from devices.ingest.batch import Classified
from devices.protocol import ack_payloads, ack_topic


def acknowledgements(messages: Iterable[Classified]) -> list[tuple[str, bytes]]:
    """(topic, payload) of the acknowledgements of committed `messages`, one per device (or a few)."""
    seqs: defaultdict[str, list[int]] = defaultdict(list)
    for message in messages:
        if message.seq is not None and message.device_id is not None:
            seqs[message.device_id].append(message.seq)
    return [
        (ack_topic(device), payload) for device, numbers in seqs.items() for payload in ack_payloads(numbers)
    ]
