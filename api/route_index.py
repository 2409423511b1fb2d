"""A cheap first test for each included router: does the path start like any of its routes?

FastAPI (0.16x) finds a request's route by asking every included router in turn, and each of them
asks every one of its routes (a regex match and some bookkeeping per route, about 5 µs). With the
~300 routes of this app, a FHIR read was found only after trying nearly all of them: 1.8 ms of route
matching, more than a third of the request's CPU. A route can only match a path that starts with its
literal part (its path up to the first `{`), so each router here gets a gate: the literal prefixes of
all its routes, wherever it is included, and the router's matching runs only for a path starting with
one of them. It never changes which route is chosen; it only skips routers that could not match.

Routes added after `install_route_index` (none in this app; tests may) switch the gate of the changed
routers off: the version FastAPI keeps per router is compared on every request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRouter, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

Prefixes = set[str]


def install_route_index(app: FastAPI) -> None:
    """Gates every included router of `app` by the literal prefixes of its routes."""
    prefixes: dict[int, Prefixes] = defaultdict(set)
    routers: dict[int, APIRouter] = {}
    ungated: set[int] = set()
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            _collect(route, [], prefixes, routers, ungated)
    for key, router in routers.items():
        if key not in ungated and prefixes[key]:
            _gate(router, tuple(sorted(prefixes[key])))


def _collect(
    branch: _IncludedRouter,
    ancestors: list[int],
    prefixes: dict[int, Prefixes],
    routers: dict[int, APIRouter],
    ungated: set[int],
) -> None:
    router = branch.original_router
    routers[id(router)] = router
    lineage = [*ancestors, id(router)]
    for candidate in branch.effective_candidates():
        if isinstance(candidate, _IncludedRouter):
            _collect(candidate, lineage, prefixes, routers, ungated)
            continue
        path = _path_of(candidate)
        for key in lineage:
            if path is None:
                ungated.add(key)  # a route of a kind we cannot read: never skip this router
            else:
                prefixes[key].add(path.split("{", 1)[0])


def _path_of(candidate: Any) -> str | None:
    starlette_route = getattr(candidate, "starlette_route", None)
    path = getattr(starlette_route, "path_format", None) or getattr(candidate, "path_format", None)
    return path if isinstance(path, str) and path.startswith("/") else None


def _gate(router: APIRouter, prefixes: tuple[str, ...]) -> None:
    matches: Callable[[Scope], tuple[Match, Scope]] = router.matches
    # Each router's own change counter, for the router and those included in it: reading them is
    # cheaper than FastAPI's recursive sum, asked of every router for every request.
    subtree = _subtree(router, set())
    versions = [r._routes_version for r in subtree]

    def changed() -> bool:
        return any(r._routes_version != v for r, v in zip(subtree, versions, strict=True))

    def gated(scope: Scope) -> tuple[Match, Scope]:
        # The path exactly as the routes match it (without a proxy's root path).
        if get_route_path(scope).startswith(prefixes) or changed():
            return matches(scope)
        return Match.NONE, {}

    router.matches = gated  # type: ignore[method-assign]


def _subtree(router: APIRouter, seen: set[int]) -> list[APIRouter]:
    if id(router) in seen:
        return []
    seen.add(id(router))
    found = [router]
    for route in router.routes:
        if isinstance(route, _IncludedRouter):
            found += _subtree(route.original_router, seen)
    return found
