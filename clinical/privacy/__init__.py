"""A patient's rights over their data: the whole record as a download (FHIR and PDF), who opened it
(from the audit log), and requests for access, correction and erasure that an administrator handles,
keeping what medical-records law requires and restricting it instead of erasing it.

This module is the front door: requests (`create_request`, `answer_request`, ...), downloads
(`record_bundle`, `record_pdf`) and who opened a record (`who_opened`) are imported from here.
"""

from clinical.privacy.access_log import who_opened
from clinical.privacy.exports import record_bundle, record_pdf
from clinical.privacy.models import RequestKind, RequestStatus
from clinical.privacy.schemas import (
    AccessLog,
    DataRequestAdminRead,
    DataRequestAnswer,
    DataRequestCreate,
    DataRequestRead,
    Decision,
    RestrictionRead,
)
from clinical.privacy.service import (
    account_of,
    answer_request,
    create_request,
    is_restricted,
    list_requests,
    patient_requests,
    plan_erasure,
    restriction_of,
)

__all__ = [
    "AccessLog",
    "DataRequestAdminRead",
    "DataRequestAnswer",
    "DataRequestCreate",
    "DataRequestRead",
    "Decision",
    "RequestKind",
    "RequestStatus",
    "RestrictionRead",
    "account_of",
    "answer_request",
    "create_request",
    "is_restricted",
    "list_requests",
    "patient_requests",
    "plan_erasure",
    "record_bundle",
    "record_pdf",
    "restriction_of",
    "who_opened",
]
