"""Create, update, conditional create and delete over `/fhir/R4`, with versions and preconditions.

Before a change the resource's current state is stored as a version (so history shows what was
replaced) and `If-Match` is checked against it; after the change the new state is stored as the
next version in the same transaction and served back with its ETag.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir import versions
from clinical.fhir.answer import FhirAnswer
from clinical.fhir.errors import MethodNotAllowed, PreconditionFailed
from clinical.fhir.provider import FhirContext, Rendered, ResourceProvider
from clinical.fhir.scopes import authorised_provider
from clinical.fhir.search.request import parse_search
from clinical.fhir.service import read_audited
from clinical.fhir.writes.base import Writer
from clinical.fhir.writes.reading import check_type
from clinical.fhir.writes.registry import writer_for
from core.errors import NotFound
from core.principal import Interaction, Principal


def _writer(provider: ResourceProvider) -> Writer:
    writer = writer_for(provider.resource_type)
    if writer is None:
        raise MethodNotAllowed(f"{provider.resource_type} is read-only here.")
    return writer


async def create_resource(
    *, ctx: FhirContext, resource_type: str, body: Any, if_none_exist: str | None = None
) -> FhirAnswer:
    """Creates a resource (201 with its Location); with If-None-Exist, returns a match instead."""
    provider = authorised_provider(ctx.session, ctx.principal, resource_type, Interaction.CREATE)
    writer = _writer(provider)
    resource = check_type(body, provider.resource_type)
    if if_none_exist:
        existing = await _existing(ctx, provider, if_none_exist)
        if existing is not None:
            [(found, tag)] = await versions.current(ctx.session, [existing])
            return FhirAnswer(found, status=200, tag=tag, location=_location(ctx, found, tag))
    new_id = await writer.create(ctx, resource)
    return await _written(ctx, provider, new_id, status=201, replaces=0)


async def _existing(ctx: FhirContext, provider: ResourceProvider, criteria: str) -> Rendered | None:
    request = parse_search(
        parse_qsl(criteria, keep_blank_values=True),
        provider.parameters(),
        resource_type=provider.resource_type,
    )
    page = await provider.search(ctx, request)
    if page.total > 1:
        raise PreconditionFailed(
            f"If-None-Exist '{criteria}' matches {page.total} resources; it must match at most one."
        )
    return page.items[0] if page.items else None


async def update_resource(
    *, ctx: FhirContext, resource_type: str, resource_id: str, body: Any, if_match: str | None = None
) -> FhirAnswer:
    """Replaces a resource's content with the body's (412 if If-Match names an older version)."""
    provider = authorised_provider(
        ctx.session, ctx.principal, resource_type, Interaction.UPDATE, resource_id=resource_id
    )
    writer = _writer(provider)
    resource = check_type(body, provider.resource_type, resource_id)
    _, tag = await _precondition(ctx, provider, resource_id, if_match)
    await writer.update(ctx, resource_id, resource)
    return await _written(ctx, provider, resource_id, status=200, replaces=tag.version_id)


async def delete_resource(
    *, ctx: FhirContext, resource_type: str, resource_id: str, if_match: str | None = None
) -> FhirAnswer:
    """Deletes as the domain allows; the version recording the deletion answers later reads with 410."""
    provider = authorised_provider(
        ctx.session, ctx.principal, resource_type, Interaction.DELETE, resource_id=resource_id
    )
    writer = _writer(provider)
    current, tag = await _precondition(ctx, provider, resource_id, if_match)
    await writer.delete(ctx, resource_id)
    deleted = await versions.record_write(ctx.session, current, replaces=tag.version_id, deleted=True)
    return FhirAnswer(None, status=204, tag=deleted)


async def _precondition(
    ctx: FhirContext, provider: ResourceProvider, resource_id: str, if_match: str | None
) -> tuple[Rendered, versions.VersionTag]:
    """The resource as it is now and its version; 412 if If-Match names another version."""
    try:
        current = await read_audited(ctx, provider, resource_id)
    except NotFound:
        raise NotFound(
            f"There is no {provider.resource_type} with id '{resource_id}'; create one with POST (ids are the server's)."
        ) from None
    [(_, tag)] = await versions.current(ctx.session, [current])
    if if_match is not None and if_match.strip() not in (tag.etag, tag.etag.removeprefix("W/")):
        raise PreconditionFailed(
            f"If-Match {if_match} is not the current version of {provider.resource_type}/{resource_id} "
            f"({tag.etag}); read it again before changing it."
        )
    return current, tag


async def _written(
    ctx: FhirContext, provider: ResourceProvider, resource_id: str, *, status: int, replaces: int
) -> FhirAnswer:
    rendered = await provider.read(ctx, resource_id)
    tag = await versions.record_write(ctx.session, rendered, replaces=replaces)
    resource = versions.stamped(rendered.resource, tag)
    return FhirAnswer(resource, status=status, tag=tag, location=_location(ctx, resource, tag))


def _location(ctx: FhirContext, resource: dict[str, Any], tag: versions.VersionTag) -> str:
    return f"{ctx.base_url}/{resource['resourceType']}/{resource['id']}/_history/{tag.version_id}"


def write_context(
    *, session: AsyncSession, principal: Principal, base_url: str, storage: Any, document_max_bytes: int
) -> FhirContext:
    """The context of a write: the read context plus where documents go."""
    return FhirContext(
        session=session,
        principal=principal,
        base_url=base_url,
        storage=storage,
        document_max_bytes=document_max_bytes,
    )
