"""Bundles: search results (`searchset`, with total and paging links) and `$everything` collections."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from clinical.fhir.models import FhirResourceVersion
from clinical.fhir.search.everything import UNPAGED, EverythingOptions
from clinical.fhir.search.request import COUNT, OFFSET, SearchRequest
from core.db import utc_now


def _entries(base_url: str, resources: list[dict[str, Any]], mode: str = "match") -> list[dict[str, Any]]:
    return [{"fullUrl": full_url(base_url, r), "resource": r, "search": {"mode": mode}} for r in resources]


def _bundle(total: int | None, links: list[dict[str, str]], entries: list[dict[str, Any]]) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": utc_now().isoformat()},
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if total is None:  # `_total=none`
        del bundle["total"]
    # FHIR forbids empty arrays: an empty page has no `entry` at all.
    if entries:
        bundle["entry"] = entries
    return bundle


def full_url(base_url: str, resource: dict[str, Any]) -> str:
    """The absolute URL a resource is read at."""
    return f"{base_url}/{resource['resourceType']}/{resource['id']}"


def searchset(
    *,
    base_url: str,
    resource_type: str,
    request: SearchRequest,
    total: int | None,
    resources: list[dict[str, Any]],
    included: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A page of search results with `total`, the self link and, when more remain, the next link."""
    links = [{"relation": "self", "url": _page_url(base_url, resource_type, request, request.offset)}]
    next_offset = request.offset + request.count
    more = next_offset < total if total is not None else len(resources) == request.count
    if request.count and more:
        links.append({"relation": "next", "url": _page_url(base_url, resource_type, request, next_offset)})
    if request.offset > 0:
        previous = max(0, request.offset - max(request.count, 1))
        links.append({"relation": "previous", "url": _page_url(base_url, resource_type, request, previous)})
    entries = _entries(base_url, resources) + _entries(base_url, included or [], "include")
    return _bundle(total, links, entries)


def everything(
    *,
    base_url: str,
    operation_url: str,
    options: EverythingOptions,
    total: int,
    resources: list[dict[str, Any]],
) -> dict[str, Any]:
    """A `searchset` page of everything about one patient (`$everything`), with its paging links."""
    links = [{"relation": "self", "url": _operation_url(operation_url, options, options.offset)}]
    if options.offset + options.count < total:
        following = options.offset + options.count
        links.append({"relation": "next", "url": _operation_url(operation_url, options, following)})
    return _bundle(total, links, _entries(base_url, resources))


def _operation_url(operation_url: str, options: EverythingOptions, offset: int) -> str:
    query = list(options.echo)
    if options.count != UNPAGED:
        query.append((COUNT, str(options.count)))
    if offset:
        query.append((OFFSET, str(offset)))
    return f"{operation_url}?{urlencode(query)}" if query else operation_url


def _page_url(base_url: str, resource_type: str, request: SearchRequest, offset: int) -> str:
    query = [*request.echo, (COUNT, str(request.count)), (OFFSET, str(offset))]
    return f"{base_url}/{resource_type}?{urlencode(query)}"


def history(
    *,
    base_url: str,
    self_url: str,
    query: Sequence[tuple[str, str]],
    total: int,
    rows: Sequence[FhirResourceVersion],
) -> dict[str, Any]:
    """A `history` Bundle of stored versions, each with the interaction that made it."""
    entries = []
    for row in rows:
        address = f"{row.resource_type}/{row.resource_id}"
        method = "DELETE" if row.deleted else "POST" if row.version_id == 1 else "PUT"
        entry: dict[str, Any] = {
            "fullUrl": f"{base_url}/{address}",
            "request": {"method": method, "url": row.resource_type if method == "POST" else address},
            "response": {
                "status": "204" if row.deleted else "201" if method == "POST" else "200",
                "etag": f'W/"{row.version_id}"',
                "lastModified": row.last_updated.isoformat(),
            },
        }
        if row.content is not None:
            entry["resource"] = row.content
        entries.append(entry)
    echo = [(k, v) for k, v in query]
    body = _bundle(
        total, [{"relation": "self", "url": f"{self_url}?{urlencode(echo)}" if echo else self_url}], entries
    )
    body["type"] = "history"
    return body
