"""Diagnoses of an encounter, coded in ICD-10 and ranked (rank 1 is the primary diagnosis)."""
