"""FHIR R4 read and search endpoints under /fhir/R4 (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/fhir/R4", tags=["fhir"])
