"""Charge items: what was done for a patient, priced from the fee schedule, waiting to be invoiced."""
