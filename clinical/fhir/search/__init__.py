"""FHIR search: parsing the query into typed criteria, and turning criteria into SQL clauses."""
