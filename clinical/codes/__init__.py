"""Code systems and value sets: ICD-10 validation and the FHIR value sets our records store."""
