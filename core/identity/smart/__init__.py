"""SMART App Launch 2.x: registered apps, their OAuth 2 grants and the scopes their tokens carry.

The front door for other packages. A SMART access token authenticates to a `Principal` whose
`grant` (a `SmartGrant`) names the app (`client_id`), its scopes and its launch patient; scopes
only narrow what the principal's role and patient scope allow. Backend services (client credentials)
authenticate as principals whose grant `is_system`.
"""

from core.identity.smart.scopes import (
    ClinicalScope,
    Interaction,
    InvalidScope,
    Level,
    SmartGrant,
    describe,
    parse_clinical,
    split_scope,
)

__all__ = [
    "ClinicalScope",
    "Interaction",
    "InvalidScope",
    "Level",
    "SmartGrant",
    "describe",
    "parse_clinical",
    "split_scope",
]
