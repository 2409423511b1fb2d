"""Code systems: ICD-10 validation of diagnosis codes."""
