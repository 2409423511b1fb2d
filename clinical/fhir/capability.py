"""The CapabilityStatement: exactly the resource types, interactions and parameters implemented."""

from __future__ import annotations

from typing import Any

from clinical.fhir.constants import FHIR_VERSION, MAX_PAGE_SIZE
from clinical.fhir.registry import providers
from core.db import utc_now

SOFTWARE_VERSION = "0.1.0"


def capability_statement(*, base_url: str) -> dict[str, Any]:
    """What this server does, generated from the registered providers so it cannot drift from them."""
    resources = []
    for provider in providers():
        entry: dict[str, Any] = {
            "type": provider.resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {"name": p.name, "type": p.type.value, "documentation": p.description}
                for p in provider.parameters().values()
            ],
        }
        if provider.documentation:
            entry["documentation"] = provider.documentation
        if provider.resource_type == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": "Everything about one patient (also their data export).",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utc_now().isoformat(),
        "publisher": "Ownat",
        "kind": "instance",
        "software": {"name": "Ownat", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Ownat FHIR R4 server (read and search)", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Read and search only. Pages hold at most {MAX_PAGE_SIZE} entries (`_count`); "
                    "`_offset` pages on. Unsupported parameters are refused with 400. A patient only "
                    "ever sees their own record."
                ),
                "security": {
                    "cors": False,
                    "description": (
                        "Send the access token of /api/v1/auth/login as 'Authorization: Bearer <token>'."
                    ),
                },
                "resource": resources,
                "searchParam": [
                    {"name": "_count", "type": "number", "documentation": "Page size (capped)."},
                    {"name": "_offset", "type": "number", "documentation": "Entries to skip."},
                ],
            }
        ],
    }
