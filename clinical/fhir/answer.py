"""What an interaction answers: a body, a status, and the version headers (ETag, Last-Modified, Location)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinical.fhir.versions import VersionTag


@dataclass(frozen=True, slots=True)
class FhirAnswer:
    body: dict[str, Any] | None
    status: int = 200
    tag: VersionTag | None = None
    # The versioned address of a created or updated resource (`Type/id/_history/n`).
    location: str | None = None
