"""Medical records: documents (PDF, images) uploaded to a patient's record, stored outside the database.

The database holds the metadata and the SHA-256 of each file; the bytes live in a `DocumentStorage`
(the filesystem under the data directory by default), named by random keys.

This module is the front door: other packages import the document services, the storage interface
and `Document` (for the joins of messaging, privacy and FHIR) from here.
"""

from clinical.documents.content_types import content_disposition

# ORM model, exposed for joins: messaging attachments, consult records, privacy exports and FHIR
# DocumentReferences.
from clinical.documents.models import Document, DocumentKind
from clinical.documents.schemas import DocumentRead, DocumentUpload
from clinical.documents.service import (
    delete_document,
    get_document,
    list_documents,
    open_document,
    upload_document,
)
from clinical.documents.storage import CHUNK_BYTES, DocumentStorage, FileSystemStorage, StoredBlob

__all__ = [
    "CHUNK_BYTES",
    "Document",
    "DocumentKind",
    "DocumentRead",
    "DocumentStorage",
    "DocumentUpload",
    "FileSystemStorage",
    "StoredBlob",
    "content_disposition",
    "delete_document",
    "get_document",
    "list_documents",
    "open_document",
    "upload_document",
]
