"""FHIR R4 mapping of the clinical domains: resources, search parameters, Bundles and OperationOutcomes.

The HTTP layer (`api/routers/fhir.py`) only parses the path and calls `service`; each resource type has
one provider module under `resources/` that knows its domain tables, its search parameters and how a row
becomes a FHIR resource. Every read is scoped by the caller and audited.
"""
