"""Code systems: ICD-10 validation of diagnosis codes.

This module is the front door: other packages import the ICD-10 functions from here.
"""

from clinical.codes.icd10 import canonical_icd10, load_icd10, lookup_icd10, search_icd10, validate_icd10

__all__ = [
    "canonical_icd10",
    "load_icd10",
    "lookup_icd10",
    "search_icd10",
    "validate_icd10",
]
