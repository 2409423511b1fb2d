"""The device tier: the device registry and credentials, the MQTT wire format, ingestion,
and the vitals store with its queries."""
