"""FHIR Bulk Data export (Flat FHIR): `$export` jobs run by the worker, NDJSON files that expire."""
