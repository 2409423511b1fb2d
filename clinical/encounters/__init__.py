"""Consultations: encounters (from an appointment or walk-in) and what happens in them.

Sub-packages hold the clinical content of an encounter: signed notes with addenda, ICD-10
diagnoses, prescriptions and manually recorded vitals. Each is scoped by the caller's principal.
"""
