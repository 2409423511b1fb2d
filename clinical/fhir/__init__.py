"""FHIR R4 mapping of the clinical domains: resources, search parameters, Bundles and OperationOutcomes.

The HTTP layer (`api/routers/fhir.py`) only parses the path and calls `service`; each resource type has
one provider module under `resources/` that knows its domain tables, its search parameters and how a row
becomes a FHIR resource. Every read is scoped by the caller and audited.

This module is the front door: the FHIR routers import the read, search, write, history and Bulk
Data functions below from here, and the FHIR error types they answer with.
"""

from clinical.fhir.answer import FhirAnswer
from clinical.fhir.bulk.capability import GROUP_RESOURCE, INSTANTIATES, PATIENT_EXPORT, SYSTEM_EXPORT

# ORM model, exposed for queries: the Bulk Data router and its benchmark read export jobs.
from clinical.fhir.bulk.models import FhirExportJob
from clinical.fhir.bulk.runner import ExportRunner, claim_job, run_export
from clinical.fhir.bulk.service import NDJSON, export_file
from clinical.fhir.bulk.service import cancel as cancel_export
from clinical.fhir.bulk.service import job_of as export_job_of
from clinical.fhir.bulk.service import kick_off as kick_off_export
from clinical.fhir.bulk.service import manifest as export_manifest
from clinical.fhir.bundles import process as process_bundle
from clinical.fhir.capability import capability_statement
from clinical.fhir.constants import EVERYTHING_LIMIT_PER_TYPE, FHIR_MEDIA_TYPE
from clinical.fhir.errors import InvalidResource, InvalidSearch, UnsupportedMediaType
from clinical.fhir.fhir_user import fhir_user_reference
from clinical.fhir.history import instance_history, type_history, vread
from clinical.fhir.outcome import operation_outcome
from clinical.fhir.provider import FhirContext
from clinical.fhir.registry import provider_for
from clinical.fhir.resources.observation_devices import reading_id
from clinical.fhir.search.request import FORMAT as FORMAT_PARAMETER
from clinical.fhir.search.request import JSON_FORMATS, check_accept, check_format
from clinical.fhir.service import patient_everything, read_resource, search_resources
from clinical.fhir.writes.service import create_resource, delete_resource, update_resource, write_context

__all__ = [
    "EVERYTHING_LIMIT_PER_TYPE",
    "FHIR_MEDIA_TYPE",
    "FORMAT_PARAMETER",
    "GROUP_RESOURCE",
    "INSTANTIATES",
    "JSON_FORMATS",
    "NDJSON",
    "PATIENT_EXPORT",
    "SYSTEM_EXPORT",
    "ExportRunner",
    "FhirAnswer",
    "FhirContext",
    "FhirExportJob",
    "InvalidResource",
    "InvalidSearch",
    "UnsupportedMediaType",
    "cancel_export",
    "capability_statement",
    "check_accept",
    "check_format",
    "claim_job",
    "create_resource",
    "delete_resource",
    "export_file",
    "export_job_of",
    "export_manifest",
    "fhir_user_reference",
    "instance_history",
    "kick_off_export",
    "operation_outcome",
    "patient_everything",
    "process_bundle",
    "provider_for",
    "read_resource",
    "reading_id",
    "run_export",
    "search_resources",
    "type_history",
    "update_resource",
    "vread",
    "write_context",
]
