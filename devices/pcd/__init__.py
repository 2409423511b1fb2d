"""IHE PCD-01 (Device Enterprise Communication): HL7 v2 device observations from monitor gateways.

Offers the receiver that the MLLP listener and the HTTP endpoint hand PCD-01 messages to
(`open_receiver`, `running_receiver`, `is_pcd01`). Senders write PCD-01 with `devices.protocol`
(`pcd01_message`, `frame`). Inside: `report` (reading the message, MDC codes through the shared
IEEE 11073-10101 table of `devices.protocol`), `identify` (which registered device), `receiver` (into ingest).
"""

from devices.pcd.pipeline import running_receiver
from devices.pcd.service import is_pcd01, open_receiver

__all__ = [
    "is_pcd01",
    "open_receiver",
    "running_receiver",
]
