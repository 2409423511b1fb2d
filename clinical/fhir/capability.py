"""The CapabilityStatement: exactly the resource types, interactions, parameters, includes and
operations implemented, generated from the providers and writers so it cannot drift from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from clinical.fhir.constants import FHIR_VERSION, MAX_PAGE_SIZE
from clinical.fhir.provider import ResourceProvider
from clinical.fhir.registry import providers
from clinical.fhir.search.includes import INCLUDES
from clinical.fhir.writes.registry import writer_for
from core.db import utc_now

SOFTWARE_VERSION = "0.1.0"
RESULT_PARAMETERS = [
    ("_count", "number", f"Page size (at most {MAX_PAGE_SIZE})."),
    ("_offset", "number", "Entries to skip (the next link carries it)."),
    ("_sort", "string", "Parameters marked sortable, '-' for descending."),
    ("_summary", "token", "true, text, data, count or false."),
    ("_elements", "string", "Top-level elements to return (the result is marked SUBSETTED)."),
    ("_total", "token", "none, estimate or accurate (always counted exactly)."),
    ("_include", "special", "See each type's searchInclude."),
    ("_revinclude", "special", "See each type's searchRevInclude."),
]


def _resource(provider: ResourceProvider) -> dict[str, Any]:
    writer = writer_for(provider.resource_type)
    interactions = ["read", "vread", "history-instance", "history-type", "search-type"]
    if writer is not None:
        interactions += [
            "create",
            *(["update"] if writer.can_update else []),
            *(["delete"] if writer.can_delete else []),
        ]
    parameters = provider.parameters().values()
    entry: dict[str, Any] = {
        "type": provider.resource_type,
        "interaction": [{"code": code} for code in interactions],
        "versioning": "versioned",
        "readHistory": True,
        "updateCreate": False,
        "conditionalCreate": writer is not None,
        "conditionalRead": "not-match",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchInclude": [f"{s}:{p}" for s, p in INCLUDES if s == provider.resource_type],
        "searchRevInclude": [
            f"{s}:{p}" for (s, p), (_, t) in INCLUDES.items() if t == provider.resource_type
        ],
        "searchParam": [
            {"name": p.name, "type": p.type.value, "documentation": _documentation(p.description, p)}
            for p in parameters
        ],
    }
    if provider.documentation:
        entry["documentation"] = provider.documentation
    if provider.resource_type == "Patient":
        entry["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                "documentation": "Everything about one patient (also their data export): start, end, _type, "
                "_since, _count.",
            }
        ]
    return {key: value for key, value in entry.items() if value != []}


def _documentation(description: str, parameter: Any) -> str:
    notes = [description]
    if parameter.target:
        notes.append(f"Chainable: {parameter.name}.<a {parameter.target} search parameter>.")
    if parameter.sort is not None:
        notes.append("Sortable.")
    return " ".join(notes)


def _security(base_url: str) -> dict[str, Any]:
    """SMART on FHIR (OAuth 2) beside Ownat's own sign-in; the endpoints are those of the discovery document."""
    origin = base_url.removesuffix("/fhir/R4")
    uris = [
        ("authorize", f"{origin}/oauth/authorize"),
        ("token", f"{origin}/oauth/token"),
        ("revoke", f"{origin}/oauth/revoke"),
        ("introspect", f"{origin}/oauth/introspect"),
    ]
    return {
        "cors": True,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ],
                "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
            }
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [{"url": name, "valueUri": uri} for name, uri in uris],
            }
        ],
        "description": (
            "SMART App Launch 2.x (see .well-known/smart-configuration): authorization code with PKCE S256 "
            "for registered apps, EHR and standalone launch, v2 and v1 scopes that only narrow the user's "
            "own access, refresh tokens (offline_access), openid fhirUser, revocation, introspection and "
            "backend services (client_credentials, RS384/ES384 assertions, system/*.rs). Ownat's own access "
            "tokens (/api/v1/auth/login) are accepted too, with the user's full access."
        ),
    }


def capability_statement(
    *,
    base_url: str,
    extra_resources: Sequence[dict[str, Any]] = (),
    operations: Sequence[dict[str, Any]] = (),
    instantiates: Sequence[str] = (),
    type_operations: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """What this server does, generated from the registered providers and writers; subscriptions and
    bulk export, which live beside the providers, add their resources, operations and the
    implementation guides they follow."""
    statement: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utc_now().isoformat(),
        "publisher": "Ownat",
        "kind": "instance",
        "software": {"name": "Ownat", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Ownat FHIR R4 server", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"JSON only (406 otherwise). Pages hold at most {MAX_PAGE_SIZE} entries. Unsupported "
                    "parameters are refused with 400. Every resource carries meta.versionId with ETag and "
                    "Last-Modified; writes take If-Match (412) and creates If-None-Exist. Writes go through "
                    "the same rules, roles and audit as the REST API. A patient only ever sees their own record."
                ),
                "security": _security(base_url),
                "resource": [_resource(provider) for provider in providers()],
                "interaction": [
                    {"code": "batch", "documentation": "Entry by entry, each in its own savepoint."},
                    {"code": "transaction", "documentation": "All or nothing; urn:uuid references resolved."},
                ],
                "searchParam": [
                    {"name": name, "type": kind, "documentation": documentation}
                    for name, kind, documentation in RESULT_PARAMETERS
                ],
            }
        ],
    }
    rest = statement["rest"][0]
    for entry in rest["resource"]:
        added = (type_operations or {}).get(entry["type"], ())
        if added:
            entry["operation"] = [*entry.get("operation", []), *added]
    rest["resource"] = [*rest["resource"], *extra_resources]
    if operations:
        rest["operation"] = list(operations)
    if instantiates:
        statement["instantiates"] = list(instantiates)
    return statement
