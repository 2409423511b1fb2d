"""Errors of the documents domain that core.errors does not already name."""

from __future__ import annotations

from core.errors import DomainError


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class DocumentIntegrityError(DomainError):
    """The stored file is missing or no longer matches its checksum: served to nobody, and logged."""

    status, code, title = 500, "document-integrity", "Stored document failed its integrity check"
