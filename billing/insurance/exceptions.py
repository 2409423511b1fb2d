"""Errors of insurance claims, each a domain error that the API answers as problem+json."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput


class ClaimNotExportable(InvalidInput):
    code = "claim-not-exportable"


class ClaimStateConflict(Conflict):
    code = "claim-state-conflict"


class CoverageConflict(Conflict):
    code = "coverage-conflict"
