"""FHIR subscriptions and Bulk Data export: notification latency beside the hub's, export throughput beside COPY."""
