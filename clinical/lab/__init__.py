"""Laboratory: orders, results, HL7 v2 ORU^R01 intake over HTTP and MLLP.

This module is the front door: other packages import the order, result and inbox services, the HL7
v2 toolkit (parsing, acknowledgements, errors) that IHE PCD reuses, and the ORM models they join on.
"""

from clinical.lab.catalogue import TESTS as CATALOGUE_TESTS
from clinical.lab.catalogue import find as find_catalogue_test
from clinical.lab.exceptions import UnsupportedMediaType
from clinical.lab.hl7.ack import AckOutcome, build_ack
from clinical.lab.hl7.ack import escape as escape_hl7
from clinical.lab.hl7.errors import AckCode, ErrorCode, Hl7Problem
from clinical.lab.hl7.errors import Location as Hl7Location
from clinical.lab.hl7.errors import rejected as hl7_rejected
from clinical.lab.hl7.message import (
    MAX_MESSAGE_CHARS,
    check_oru_header,
    decode_payload,
    normalise_segment_breaks,
    parse_message,
    read_header,
)
from clinical.lab.hl7.message import Header as Hl7Header
from clinical.lab.hl7.values import parse_dtm
from clinical.lab.inbox import get_message, list_messages, resolve_message
from clinical.lab.intake import HTTP as HTTP_CHANNEL
from clinical.lab.intake import receive as receive_hl7
from clinical.lab.manual_results import enter_results
from clinical.lab.mllp import MllpServer

# ORM models, exposed for joins: lab charges in billing and FHIR DiagnosticReports.
from clinical.lab.models import LabOrder, LabOrderItem, LabResult
from clinical.lab.orders import change_status as change_order_status
from clinical.lab.orders import create_order
from clinical.lab.queries import MAX_PAGE_SIZE as MAX_ORDER_PAGE_SIZE
from clinical.lab.queries import get_order, list_orders, order_view
from clinical.lab.schemas import (
    CatalogueTestRead,
    Hl7MessageRead,
    Hl7MessageSummary,
    LabOrderCreate,
    LabOrderRead,
    LabOrderSummary,
    ReferenceRangeRead,
    Resolve,
    ResultEntries,
    ResultEntry,
    StatusChange,
)
from clinical.lab.terms import MessageStatus, OrderStatus, Priority, ResultStatus, ValueType

__all__ = [
    "CATALOGUE_TESTS",
    "HTTP_CHANNEL",
    "MAX_MESSAGE_CHARS",
    "MAX_ORDER_PAGE_SIZE",
    "AckCode",
    "AckOutcome",
    "CatalogueTestRead",
    "ErrorCode",
    "Hl7Header",
    "Hl7Location",
    "Hl7MessageRead",
    "Hl7MessageSummary",
    "Hl7Problem",
    "LabOrder",
    "LabOrderCreate",
    "LabOrderItem",
    "LabOrderRead",
    "LabOrderSummary",
    "LabResult",
    "MessageStatus",
    "MllpServer",
    "OrderStatus",
    "Priority",
    "ReferenceRangeRead",
    "Resolve",
    "ResultEntries",
    "ResultEntry",
    "ResultStatus",
    "StatusChange",
    "UnsupportedMediaType",
    "ValueType",
    "build_ack",
    "change_order_status",
    "check_oru_header",
    "create_order",
    "decode_payload",
    "enter_results",
    "escape_hl7",
    "find_catalogue_test",
    "get_message",
    "get_order",
    "hl7_rejected",
    "list_messages",
    "list_orders",
    "normalise_segment_breaks",
    "order_view",
    "parse_dtm",
    "parse_message",
    "read_header",
    "receive_hl7",
    "resolve_message",
]
