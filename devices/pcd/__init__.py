"""IHE PCD-01 (Device Enterprise Communication): HL7 v2 device observations from monitor gateways.

Front doors: `devices.pcd.service` for the server (the receiver the MLLP listener and the HTTP
endpoint hand PCD-01 messages to) and `devices.pcd.compose` for senders (standard library only,
used by the edge gateway's simulator). Inside: `report` (reading the message, MDC codes through
the shared IEEE 11073-10101 table `devices.mdc`), `identify` (which registered device), `receiver` (into ingest).
"""
