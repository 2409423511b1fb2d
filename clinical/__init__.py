"""Clinical care: patients, organisation, schedules and appointments, consultations, lab, records.

Also the FHIR R4 and HL7 v2 mappings of these records.
"""
