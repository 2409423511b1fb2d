"""MQTT ingestion: validate, batch-write, publish live, dead-letter the rest."""
