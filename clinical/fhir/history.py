"""vread and `_history`: the stored versions of a resource or of a type, scoped and audited like reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir import bundle, versions
from clinical.fhir.answer import FhirAnswer
from clinical.fhir.constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from clinical.fhir.errors import Gone, InvalidSearch, OtherPatientsResource, UnsupportedParameter
from clinical.fhir.models import FhirResourceVersion
from clinical.fhir.provider import FhirContext, Rendered, ResourceProvider
from clinical.fhir.scopes import authorised_provider
from clinical.fhir.search.request import COUNT, FORMAT, OFFSET, check_format, non_negative
from clinical.fhir.search.values import parse_date
from clinical.fhir.service import audit_served, read_audited
from core.errors import NotFound
from core.principal import Interaction, Principal

SINCE = "_since"


async def _bring_up_to_date(
    ctx: FhirContext, provider: ResourceProvider, resource_id: str
) -> Rendered | None:
    """Stores the resource's current state as a version if it is new; None if it does not exist now."""
    try:
        rendered = await read_audited(ctx, provider, resource_id)
    except NotFound:
        return None
    await versions.current(ctx.session, [rendered])
    return rendered


def _check_access(ctx: FhirContext, provider: ResourceProvider, row: FhirResourceVersion) -> None:
    if (
        provider.patient_data
        and row.patient_id is not None
        and not ctx.principal.may_access_patient(row.patient_id, resource_type=provider.resource_type)
    ):
        audit_served(
            ctx,
            "history",
            provider.resource_type,
            resource_id=row.resource_id,
            outcome="denied",
            owner=row.patient_id,
        )
        raise OtherPatientsResource(
            f"This {provider.resource_type} belongs to another patient's record.", patient_id=row.patient_id
        )


async def vread(
    *,
    session: AsyncSession,
    principal: Principal,
    base_url: str,
    resource_type: str,
    resource_id: str,
    version_id: str,
) -> FhirAnswer:
    """One version of a resource (410 for the version that deleted it)."""
    provider = authorised_provider(
        session, principal, resource_type, Interaction.READ, resource_id=resource_id
    )
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    current = await _bring_up_to_date(ctx, provider, resource_id)
    if current is not None and not current.versioned and version_id == "1":
        # Computed and immutable resources have one version: the one served now.
        [(resource, tag)] = await versions.current(session, [current])
        return FhirAnswer(resource, tag=tag)
    row = (
        await versions.version(session, resource_type, resource_id, int(version_id))
        if version_id.isdigit()
        else None
    )
    if row is None:
        raise NotFound(f"{resource_type}/{resource_id} has no version '{version_id}'.")
    _check_access(ctx, provider, row)
    tag = versions.VersionTag(row.version_id, row.last_updated, row.deleted)
    if row.deleted or row.content is None:
        raise Gone(f"Version {row.version_id} of {resource_type}/{resource_id} records its deletion.")
    if provider.patient_data:
        audit_served(
            ctx, "vread", resource_type, [Rendered(row.content, row.patient_id)], resource_id=resource_id
        )
    return FhirAnswer(row.content, tag=tag)


async def instance_history(
    *,
    session: AsyncSession,
    principal: Principal,
    base_url: str,
    resource_type: str,
    resource_id: str,
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Every stored version of one resource, newest first."""
    provider = authorised_provider(
        session, principal, resource_type, Interaction.READ, resource_id=resource_id
    )
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    since, count, offset = _history_options(query)
    await _bring_up_to_date(ctx, provider, resource_id)
    total, rows = await versions.history(
        session, resource_type=resource_type, resource_id=resource_id, since=since, offset=offset, limit=count
    )
    if total == 0 and since is None:
        raise NotFound(f"There is no {resource_type} with id '{resource_id}'.")
    for row in rows[:1]:
        _check_access(ctx, provider, row)
    return _answer(ctx, provider, rows, total, f"{base_url}/{resource_type}/{resource_id}/_history", query)


async def type_history(
    *,
    session: AsyncSession,
    principal: Principal,
    base_url: str,
    resource_type: str,
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """The stored versions of a type, newest first; a patient's are of their own record only."""
    provider = authorised_provider(session, principal, resource_type, Interaction.SEARCH)
    ctx = FhirContext(session=session, principal=principal, base_url=base_url)
    since, count, offset = _history_options(query)
    patient_id = None
    if provider.patient_data and not principal.sees_every_patient(provider.resource_type):
        patient_id = principal.only_patient(provider.resource_type)
        if patient_id is None:
            return _answer(ctx, provider, [], 0, f"{base_url}/{resource_type}/_history", query)
    total, rows = await versions.history(
        session, resource_type=resource_type, patient_id=patient_id, since=since, offset=offset, limit=count
    )
    return _answer(ctx, provider, rows, total, f"{base_url}/{resource_type}/_history", query)


def _answer(
    ctx: FhirContext,
    provider: ResourceProvider,
    rows: list[FhirResourceVersion],
    total: int,
    url: str,
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    if provider.patient_data:
        served = [Rendered(row.content, row.patient_id) for row in rows if row.content is not None]
        audit_served(ctx, "history", provider.resource_type, served)
    return bundle.history(base_url=ctx.base_url, self_url=url, query=query, total=total, rows=rows)


def _history_options(query: Sequence[tuple[str, str]]) -> tuple[datetime | None, int, int]:
    since, count, offset = None, DEFAULT_PAGE_SIZE, 0
    for key, raw in query:
        if key == FORMAT:
            check_format(raw)
        elif key == COUNT:
            count = min(non_negative(key, raw), MAX_PAGE_SIZE)
        elif key == OFFSET:
            offset = non_negative(key, raw)
        elif key == SINCE:
            if "T" not in raw:
                raise InvalidSearch(f"'{SINCE}' is an instant with a time and an offset, not '{raw}'.")
            since = parse_date(raw, name=SINCE).start
        else:
            raise UnsupportedParameter(
                f"'{key}' is not a parameter of _history; use _since, _count or _offset."
            )
    return since, count, offset
