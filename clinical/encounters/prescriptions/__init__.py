"""Prescriptions written in an encounter: medication, dose, route, frequency, duration and status."""
