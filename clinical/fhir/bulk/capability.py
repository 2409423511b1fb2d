"""What the CapabilityStatement says of Bulk Data export: the three `$export` operations and the Group."""

from __future__ import annotations

from typing import Any

BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/"
INSTANTIATES = BULK_DATA + "CapabilityStatement/bulk-data"
_PARAMETERS = "_outputFormat (application/fhir+ndjson), _type, _since; Prefer: respond-async."


def _operation(name: str, definition: str, scope: str) -> dict[str, Any]:
    return {
        "name": name,
        "definition": BULK_DATA + f"OperationDefinition/{definition}",
        "documentation": f"Bulk Data export of {scope}, asynchronous (202, Content-Location to poll, "
        f"DELETE to cancel), NDJSON per type, files kept a day. {_PARAMETERS} For a backend-services "
        "client with system/ scopes, or an administrator.",
    }


SYSTEM_EXPORT = _operation("export", "export", "every exported type")
PATIENT_EXPORT = _operation("export", "patient-export", "every patient's compartment")
GROUP_EXPORT = _operation("export", "group-export", "the patients of a ward (a Group is a ward)")
GROUP_RESOURCE: dict[str, Any] = {
    "type": "Group",
    "documentation": "A Group is a ward: Group/<ward id> holds the patients in its beds when the export "
    "starts. Groups are not read or searched here; they exist for $export only.",
    "operation": [GROUP_EXPORT],
}
