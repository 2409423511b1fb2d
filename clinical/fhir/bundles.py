"""Batch and transaction Bundles posted to the base (`POST /fhir/R4`).

Each entry is one interaction (GET, POST, PUT, DELETE) carried out by the same code as its REST
form. A batch runs each entry in a savepoint of its own and answers each on its own; a transaction
runs DELETEs, then POSTs, then PUTs, then GETs (R4's order) and is all or nothing: the first entry
that fails fails the whole request, which rolls back. References to other entries' `urn:uuid:`
fullUrls are replaced by the created resources' ids before an entry is written, creating the
referenced entries first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from clinical.fhir import history, service
from clinical.fhir.answer import FhirAnswer
from clinical.fhir.errors import InvalidResource, MethodNotAllowed
from clinical.fhir.outcome import operation_outcome
from clinical.fhir.provider import FhirContext
from clinical.fhir.writes import service as writes
from core import audit
from core.errors import DomainError

MAX_ENTRIES = 100
TRANSACTION_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3}
URN = "urn:uuid:"


class EntryFailed(DomainError):
    """A transaction entry failed: the whole transaction is refused, naming the entry and why."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(f"Entry {index} failed, so nothing was done: {error.detail}")
        self.status, self.code, self.title = error.status, error.code, error.title


async def process(ctx: FhirContext, body: Any) -> dict[str, Any]:
    """The batch-response or transaction-response Bundle of a batch or transaction Bundle."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidResource("POST to the base takes a Bundle of type batch or transaction.")
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise InvalidResource(f"A Bundle posted to the base is a batch or a transaction, not '{kind}'.")
    entries = body.get("entry") or []
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise InvalidResource(f"A {kind} holds at most {MAX_ENTRIES} entries.")
    requests = [_entry_request(index, entry) for index, entry in enumerate(entries)]
    answers: dict[int, dict[str, Any]] = {}
    resolved: dict[str, str] = {}
    if kind == "transaction":
        for index in _transaction_order(requests):
            try:
                answers[index] = await _run(ctx, requests[index], resolved)
            except DomainError as error:
                raise EntryFailed(index, error) from error
    else:
        for index in _creations_first(requests):
            answers[index] = await _run_alone(ctx, requests[index], resolved)
    return {
        "resourceType": "Bundle",
        "type": f"{kind}-response",
        "entry": [answers[index] for index in range(len(requests))],
    }


def _entry_request(index: int, entry: Any) -> dict[str, Any]:
    request = entry.get("request") if isinstance(entry, dict) else None
    if (
        not isinstance(request, dict)
        or request.get("method") not in TRANSACTION_ORDER
        or not isinstance(request.get("url"), str)
    ):
        raise InvalidResource(
            f"Entry {index} needs request.method (GET, POST, PUT or DELETE) and request.url."
        )
    return {**request, "index": index, "resource": entry.get("resource"), "fullUrl": entry.get("fullUrl")}


def _transaction_order(requests: list[dict[str, Any]]) -> list[int]:
    by_method = sorted(requests, key=lambda r: TRANSACTION_ORDER[r["method"]])
    posts = [r for r in by_method if r["method"] == "POST"]
    ordered_posts = _creations_first(posts)
    others = [r["index"] for r in by_method if r["method"] != "POST"]
    deletes = [i for i in others if requests[i]["method"] == "DELETE"]
    return deletes + ordered_posts + [i for i in others if i not in deletes]


def _creations_first(requests: list[dict[str, Any]]) -> list[int]:
    """Entry indexes with every created entry before those whose resources refer to it."""
    pending = list(requests)
    created = {
        r["fullUrl"] for r in requests if r["method"] == "POST" and str(r.get("fullUrl", "")).startswith(URN)
    }
    done: set[str] = set()
    order: list[int] = []
    while pending:
        ready = [r for r in pending if (_urns(r.get("resource")) & created) <= done]
        if not ready:
            raise InvalidResource("Entries refer to each other in a circle; no order can create them.")
        for request in ready:
            order.append(request["index"])
            pending.remove(request)
            if request.get("fullUrl") in created:
                done.add(request["fullUrl"])
    return order


def _urns(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["reference"]} if str(value.get("reference", "")).startswith(URN) else set()
        return found.union(*(_urns(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_urns(v) for v in value))
    return set()


def _resolve(value: Any, resolved: dict[str, str]) -> Any:
    if isinstance(value, dict):
        copy = {k: _resolve(v, resolved) for k, v in value.items()}
        if copy.get("reference") in resolved:
            copy["reference"] = resolved[copy["reference"]]
        return copy
    if isinstance(value, list):
        return [_resolve(v, resolved) for v in value]
    return value


async def _run_alone(ctx: FhirContext, request: dict[str, Any], resolved: dict[str, str]) -> dict[str, Any]:
    """A batch entry in a savepoint: its failure undoes only itself, and its audit entries say so."""
    pending = ctx.session.info.setdefault(audit.PENDING_KEY, [])
    before = len(pending)
    try:
        async with ctx.session.begin_nested():
            return await _run(ctx, request, resolved)
    except DomainError as error:
        pending[before:] = audit.mark_failed(pending[before:], error)
        return {
            "response": {
                "status": _status(error.status),
                "outcome": operation_outcome(
                    status=error.status, diagnostics=error.detail, error_code=error.code
                ),
            }
        }


async def _run(ctx: FhirContext, request: dict[str, Any], resolved: dict[str, str]) -> dict[str, Any]:
    url = urlsplit(request["url"])
    parts = [p for p in url.path.strip("/").split("/") if p]
    resource = _resolve(request.get("resource"), resolved)
    method = request["method"]
    handlers: dict[str, Callable[[], Awaitable[FhirAnswer | dict[str, Any]]]] = {
        "POST": lambda: writes.create_resource(
            ctx=ctx, resource_type=_only_type(parts), body=resource, if_none_exist=request.get("ifNoneExist")
        ),
        "PUT": lambda: writes.update_resource(
            ctx=ctx,
            resource_type=parts[0],
            resource_id=_id(parts),
            body=resource,
            if_match=request.get("ifMatch"),
        ),
        "DELETE": lambda: writes.delete_resource(
            ctx=ctx, resource_type=parts[0], resource_id=_id(parts), if_match=request.get("ifMatch")
        ),
        "GET": lambda: _get(ctx, parts, parse_qsl(url.query, keep_blank_values=True)),
    }
    result = await handlers[method]()
    if isinstance(result, dict):  # a search or history: a Bundle of its own
        return {"resource": result, "response": {"status": "200 OK"}}
    if method == "POST" and result.body is not None and str(request.get("fullUrl", "")).startswith(URN):
        resolved[request["fullUrl"]] = f"{result.body['resourceType']}/{result.body['id']}"
    return _entry(result)


async def _get(
    ctx: FhirContext, parts: list[str], query: list[tuple[str, str]]
) -> FhirAnswer | dict[str, Any]:
    session, principal, base_url = ctx.session, ctx.principal, ctx.base_url
    if len(parts) == 1:
        return await service.search_resources(
            session=session, principal=principal, base_url=base_url, resource_type=parts[0], query=query
        )
    if len(parts) == 2:
        return await service.read_resource(
            session=session,
            principal=principal,
            base_url=base_url,
            resource_type=parts[0],
            resource_id=parts[1],
        )
    if len(parts) == 4 and parts[2] == "_history":
        return await history.vread(
            session=session,
            principal=principal,
            base_url=base_url,
            resource_type=parts[0],
            resource_id=parts[1],
            version_id=parts[3],
        )
    raise MethodNotAllowed(
        f"GET {'/'.join(parts)} is not offered inside a Bundle (read, vread and search are)."
    )


def _only_type(parts: list[str]) -> str:
    if len(parts) != 1:
        raise InvalidResource("A POST entry's request.url is the resource type, e.g. 'Patient'.")
    return parts[0]


def _id(parts: list[str]) -> str:
    if len(parts) != 2:
        raise InvalidResource("A PUT or DELETE entry's request.url is 'Type/id'.")
    return parts[1]


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _entry(result: FhirAnswer) -> dict[str, Any]:
    response: dict[str, Any] = {"status": _status(result.status)}
    if result.location:
        response["location"] = result.location
    if result.tag is not None:
        response["etag"] = result.tag.etag
        response["lastModified"] = result.tag.last_updated.isoformat()
    entry: dict[str, Any] = {"response": response}
    if result.body is not None:
        entry["fullUrl"] = f"{result.body['resourceType']}/{result.body['id']}"
        entry["resource"] = result.body
    return entry
