"""`.well-known/smart-configuration`: exactly what this server supports of SMART App Launch 2.x."""

from __future__ import annotations

from typing import Any

from core.identity.smart.assertions import ALGORITHMS
from core.identity.smart.scopes import CONTEXT_SCOPES

# Capabilities we implement (SMART App Launch 2.x, "Capability sets"); nothing else is claimed.
CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "context-ehr-patient",
    "context-standalone-patient",
    "permission-offline",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
    "authorize-post",
]
CLINICAL_SCOPES_SUPPORTED = [
    "patient/*.cruds",
    "user/*.cruds",
    "system/*.rs",
    "patient/*.read",
    "user/*.read",
]


def smart_configuration(*, origin: str, fhir_base_path: str) -> dict[str, Any]:
    """The discovery document for the server at `origin`."""
    return {
        "issuer": f"{origin}{fhir_base_path}",
        "jwks_uri": f"{origin}/oauth/jwks",
        "authorization_endpoint": f"{origin}/oauth/authorize",
        "token_endpoint": f"{origin}/oauth/token",
        "revocation_endpoint": f"{origin}/oauth/revoke",
        "introspection_endpoint": f"{origin}/oauth/introspect",
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": [
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
        ],
        "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": sorted(CONTEXT_SCOPES) + CLINICAL_SCOPES_SUPPORTED,
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "capabilities": CAPABILITIES,
    }
