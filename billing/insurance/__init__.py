"""Insurance: payers, patients' coverages, and claims built from encounters, exported as X12 837P and FHIR."""
