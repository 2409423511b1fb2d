"""The FHIR interface's one check of a SMART app's scopes, made before any provider is asked.

Every interaction (read, search, history, `$everything`, includes, writes, Bundle entries, which run
through the same service functions) names its resource type and permission here. Ownat's own tokens
carry no grant and pass; an app's token passes only if a scope grants the permission. Beneath this,
the providers still scope every query by the user's role and patient, and by the app's launch patient.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir.errors import UnknownResourceType
from clinical.fhir.provider import ResourceProvider
from clinical.fhir.registry import provider_for
from core.access import refuse
from core.principal import Interaction, Principal

WORDS = {
    Interaction.READ: "read",
    Interaction.SEARCH: "search",
    Interaction.CREATE: "create",
    Interaction.UPDATE: "update",
    Interaction.DELETE: "delete",
}


def permitted(principal: Principal, resource_type: str, interaction: Interaction) -> bool:
    """Whether the caller's token (an app's scopes, if any) grants `interaction` on the type."""
    return principal.grant is None or principal.grant.allows(resource_type, interaction)


def require_scope(
    session: AsyncSession,
    principal: Principal,
    resource_type: str,
    interaction: Interaction,
    *,
    resource_id: str | None = None,
) -> None:
    """Forbidden (audited) unless the token's scopes grant `interaction` on `resource_type`."""
    if permitted(principal, resource_type, interaction):
        return
    refuse(
        session,
        principal,
        action=f"fhir.{WORDS[interaction]}",
        resource_type=f"fhir.{resource_type}",
        resource_id=resource_id,
        message=(
            f"This app's access token has no scope to {WORDS[interaction]} {resource_type} "
            f"(granted: {principal.grant.scope if principal.grant else ''})."
        ),
    )


def authorised_provider(
    session: AsyncSession,
    principal: Principal,
    resource_type: str,
    interaction: Interaction,
    *,
    resource_id: str | None = None,
) -> ResourceProvider:
    """The provider of a served type once the caller's scopes allow the interaction on it."""
    provider = provider_for(resource_type)
    if provider is None:
        raise UnknownResourceType(f"This server does not serve the resource type '{resource_type}'.")
    require_scope(session, principal, provider.resource_type, interaction, resource_id=resource_id)
    return provider
