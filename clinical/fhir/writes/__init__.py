"""FHIR writes: create, update, conditional create and delete, each through the domain service its
REST twin calls (so it is validated, authorised and audited the same way), answered with the new
version of the resource. One writer module per type maps FHIR JSON to the domain's own schemas.
"""
