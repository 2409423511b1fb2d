"""One provider per FHIR resource type: its tables, search parameters and mapping to R4 JSON."""
