"""The FHIR interface's operations: read, search, `$everything` and the CapabilityStatement.

Each operation scopes by the caller (through the providers) and audits what it returned, one entry
per patient whose data was served, so the audit log answers "who saw my record".
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir import bundle, versions
from clinical.fhir.answer import FhirAnswer
from clinical.fhir.errors import Gone, OtherPatientsResource, UnknownResourceType
from clinical.fhir.provider import FhirContext, Rendered, ResourceProvider, TableProvider
from clinical.fhir.registry import provider_for, providers
from clinical.fhir.scopes import authorised_provider, permitted
from clinical.fhir.search.everything import parse_everything
from clinical.fhir.search.includes import check_includes, included
from clinical.fhir.search.request import SearchParameter, SearchRequest, parse_search
from clinical.fhir.search.subsetting import subset
from core import audit
from core.errors import NotFound
from core.principal import Interaction, Principal


def provider_of(resource_type: str) -> ResourceProvider:
    """The provider of a served type; 404 (as an OperationOutcome) for any other."""
    provider = provider_for(resource_type)
    if provider is None:
        raise UnknownResourceType(f"This server does not serve the resource type '{resource_type}'.")
    return provider


async def read_resource(
    *, session: AsyncSession, principal: Principal, base_url: str, resource_type: str, resource_id: str
) -> FhirAnswer:
    """One resource by type and id, if the caller may see it, stamped with its current version."""
    provider = authorised_provider(
        session, principal, resource_type, Interaction.READ, resource_id=resource_id
    )
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    try:
        rendered = await read_audited(ctx, provider, resource_id)
    except NotFound:
        stored = (await versions.latest(session, provider.resource_type, [resource_id])).get(resource_id)
        if stored is not None and stored.deleted:
            raise Gone(f"{provider.resource_type}/{resource_id} was deleted.") from None
        raise
    [(resource, tag)] = await versions.current(session, [rendered])
    return FhirAnswer(resource, tag=tag)


async def read_audited(ctx: FhirContext, provider: ResourceProvider, resource_id: str) -> Rendered:
    """The provider's read, audited as served or as refused."""
    try:
        rendered = await provider.read(ctx, resource_id)
    except OtherPatientsResource as refusal:
        audit_served(
            ctx,
            "read",
            provider.resource_type,
            resource_id=resource_id,
            outcome="denied",
            owner=refusal.patient_id,
        )
        raise
    if provider.patient_data:
        audit_served(ctx, "read", provider.resource_type, [rendered], resource_id=resource_id)
    return rendered


async def search_resources(
    *,
    session: AsyncSession,
    principal: Principal,
    base_url: str,
    resource_type: str,
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """A `searchset` Bundle of one page of matches (and what `_include`/`_revinclude` add to it);
    a patient only ever matches, and has included, their own data."""
    provider = authorised_provider(session, principal, resource_type, Interaction.SEARCH)
    request = parse_search(
        query, provider.parameters(), resource_type=provider.resource_type, targets=_chain_target
    )
    check_includes(request, provider.resource_type)
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    page = await provider.search(ctx, request)
    matches = [] if request.summary == "count" else page.items
    extra = await included(ctx, request, matches, provider_of) if matches else []
    # An app's scopes decide which included types it receives (left out, not refused).
    extra = [item for item in extra if permitted(principal, item.resource["resourceType"], Interaction.READ)]
    served = [item for item in [*matches, *extra] if item.patient_id is not None]
    if provider.patient_data or served:
        audit_served(ctx, "search", provider.resource_type, served, query=[list(item) for item in query])
    return bundle.searchset(
        base_url=base_url,
        resource_type=provider.resource_type,
        request=request,
        total=None if request.total == "none" else page.total,
        resources=await _shown(session, request, matches),
        included=await _shown(session, request, extra),
    )


async def _shown(
    session: AsyncSession, request: SearchRequest, items: list[Rendered]
) -> list[dict[str, Any]]:
    """Each item at its current version, with only the elements `_summary`/`_elements` ask for."""
    stamped = await versions.current(session, items)
    return [subset(resource, summary=request.summary, elements=request.elements) for resource, _ in stamped]


def _chain_target(resource_type: str) -> tuple[Mapping[str, SearchParameter], Any] | None:
    provider = provider_for(resource_type)
    if not isinstance(provider, TableProvider):
        return None
    return provider.parameters(), provider.model.id


async def patient_everything(
    *,
    session: AsyncSession,
    principal: Principal,
    base_url: str,
    patient_id: str,
    query: Sequence[tuple[str, str]],
    limit_per_type: int,
) -> dict[str, Any]:
    """Every resource about one patient, the Patient first: also the patient's own data export.

    The operation's parameters narrow it: `start`/`end` (care dates), `_type`, `_since`, and
    `_count`/`_offset` page through it.
    """
    options = parse_everything(query, served={p.resource_type for p in providers()}, limit=limit_per_type)
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    try:
        provider = authorised_provider(
            session, principal, "Patient", Interaction.READ, resource_id=patient_id
        )
        patient = await provider.read(ctx, patient_id)
    except OtherPatientsResource as refusal:
        audit_served(
            ctx, "everything", "Patient", resource_id=patient_id, outcome="denied", owner=refusal.patient_id
        )
        raise
    owner = patient.patient_id
    assert owner is not None
    items: list[Rendered] = [patient] if options.wants("Patient") else []
    for provider in providers():
        if (
            provider.patient_data
            and provider.resource_type != "Patient"
            and options.wants(provider.resource_type)
            and permitted(principal, provider.resource_type, Interaction.SEARCH)
        ):
            items += await provider.for_patient(ctx, owner, record=options.record)
    page = items[options.offset : options.offset + options.count]
    audit_served(ctx, "everything", "Patient", page, resource_id=patient_id, owner=owner, summary=True)
    return bundle.everything(
        base_url=base_url,
        operation_url=f"{base_url}/Patient/{patient_id}/$everything",
        options=options,
        total=len(items),
        resources=[resource for resource, _ in await versions.current(session, page)],
    )


def audit_served(
    ctx: FhirContext,
    action: str,
    resource_type: str,
    items: Sequence[Rendered] = (),
    *,
    resource_id: str | None = None,
    outcome: str = "success",
    summary: bool = False,
    owner: uuid.UUID | None = None,
    **detail: Any,
) -> None:
    """One audit entry per patient whose data was served (or refused), naming the resources."""
    by_patient: dict[uuid.UUID | None, list[str]] = defaultdict(list)
    for item in items:
        by_patient[item.patient_id].append(f"{item.resource['resourceType']}/{item.resource['id']}")
    if not by_patient:
        by_patient[owner or _patient_named(resource_type, resource_id)] = []
    for patient_id, references in by_patient.items():
        served: dict[str, Any] = {"count": len(references)}
        if ctx.principal.grant is not None:
            # Served to a SMART app: the log says which app the user (or service) let in.
            served["client_id"] = ctx.principal.grant.client_id
        if not summary:
            served["resources"] = references
        audit.record(
            ctx.session,
            actor=ctx.principal,
            action=f"fhir.{action}",
            resource_type=f"fhir.{resource_type}",
            resource_id=resource_id,
            patient_id=patient_id,
            outcome=outcome,
            detail={**detail, **served},
        )


def _patient_named(resource_type: str, resource_id: str | None) -> uuid.UUID | None:
    # A refused or empty access to a Patient is still about that patient.
    if resource_type != "Patient" or resource_id is None:
        return None
    try:
        return uuid.UUID(resource_id)
    except ValueError:
        return None
