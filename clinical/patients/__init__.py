"""Patients: demographics, identifiers (MRN and external), allergies, conditions and current medications."""
