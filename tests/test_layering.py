"""The package layering, checked on every run (docs/ARCHITECTURE.md explains the rules).

Every production module is parsed with `ast` (no import runs): relative imports are resolved, and
imports inside functions (or under `if TYPE_CHECKING:`) count as much as those at the top: they
bind the packages the same way. Each contract may carry explicit exceptions; an exception that is
no longer needed fails the test too, so the lists only shrink.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "core", "clinical", "billing", "devices", "realtime", "edge", "ownat", "bench")
DOMAINS = frozenset({"clinical", "billing", "devices", "realtime"})

# What each top-level package must not import (first-party packages only; third party is free).
FORBIDDEN = {
    "core": frozenset(PACKAGES) - {"core"},
    **{domain: frozenset({"api", "ownat", "bench", "edge"}) for domain in DOMAINS},
    "api": frozenset({"ownat", "bench", "edge"}),
}
# The edge agent installs without the server's dependencies: the wire format and the simulator only.
EDGE_MAY_IMPORT = ("edge", "devices.protocol", "devices.simulator")
# A router is an HTTP surface: what bench needs from it belongs in a module beside it (api.report_catalogue).
BENCH_MUST_NOT_IMPORT = ("api.routers",)

# Layer exceptions, as (importing module, imported module). Each says why and when it goes.
LAYER_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # The IEEE 11073 MDC code table and the PCD-01 composer are wire format too: pure modules
        # (standard library and `devices.protocol`) that tests/edge/test_packaging.py ships to the
        # edge. Both go when they move under the device protocol the edge may import.
        ("edge.pcd_mllp", "devices.pcd.compose"),
        ("edge.sdc.mapping", "devices.mdc"),
    }
)

# Sub-package import edges allowed to close a cycle, as (importing unit, imported unit). Each says
# which cycle it closes and what ends it.
CYCLE_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset(
    {
        # core.audit <-> core.identity: the audit actor and the admin check of the audit reads are
        # core.identity's Principal and Role. Goes when Principal (imported by nearly 300 modules)
        # moves below both, to core/principal.py, with the SMART grant it carries.
        ("core.audit", "core.identity"),
        # core.access <-> core.identity: same cause (access checks take a Principal; SMART app
        # management checks access). Goes with the same move.
        ("core.access", "core.identity"),
        # core.audit <-> core.sessions: sessions sign pending audit entries at commit, and the
        # sequencer seals them in a `core.sessions.transaction`. Goes when the sealing job moves
        # out of core.audit beside the other periodic jobs.
        ("core.audit", "core.sessions"),
        # billing.charges <-> billing.insurance: editing a charge is refused while it is on a claim
        # (charges.service) and the encounter worklist shows claims (charges.encounters), while claims
        # are built from charges. Goes when both move above insurance, as billing.adjudication did.
        ("billing.charges", "billing.insurance"),
    }
)

# Imports from one domain (clinical, billing, devices, realtime) into another domain's modules that
# are not its front door, counted once per import statement and module. The front doors are not
# built yet: this ceiling may only fall (lower it when the count falls), and goes to zero as they land.
CROSS_DOMAIN_CEILING = 99
# Modules that already are a public surface for the other domains.
FRONT_DOORS = frozenset({"devices.protocol"})


@dataclass(frozen=True, slots=True)
class Import:
    source: str
    target: str
    line: int


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a file, and whether it is a package's __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name, is_package = _module_name(path)
            found[name] = (path, is_package)
    return found


def _first_party(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _imports_of(name: str, path: Path, is_package: bool, modules: Iterable[str]) -> Iterable[Import]:
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _first_party(alias.name):
                    yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            if not _first_party(target):
                continue
            for alias in node.names:
                # `from package import module` imports the module itself.
                submodule = f"{target}.{alias.name}"
                yield Import(name, submodule if submodule in modules else target, node.lineno)


@cache
def all_imports() -> tuple[Import, ...]:
    """Every first-party import of every production module, once per (module, target, line)."""
    modules = _modules()
    found = {
        imported
        for name, (path, is_package) in modules.items()
        for imported in _imports_of(name, path, is_package, modules)
    }
    return tuple(sorted(found, key=lambda i: (i.source, i.target, i.line)))


def _top(name: str) -> str:
    return name.split(".")[0]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_violations() -> set[tuple[str, str]]:
    found = set()
    for imp in all_imports():
        source, target = _top(imp.source), _top(imp.target)
        broken = target in FORBIDDEN.get(source, ())
        if source == "edge":
            broken = not any(_within(imp.target, allowed) for allowed in EDGE_MAY_IMPORT)
        if source == "bench":
            broken = any(_within(imp.target, router) for router in BENCH_MUST_NOT_IMPORT)
        if broken:
            found.add((imp.source, imp.target))
    return found


def unit(name: str) -> str:
    """The sub-package a module belongs to (`billing.insurance`); top-level modules are their own."""
    return ".".join(name.split(".")[:2])


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in all_imports():
        source, target = unit(imp.source), unit(imp.target)
        if source != target:
            graph[source].add(target)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def cycle_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The edges that lie on a cycle: a -> b where b leads back to a."""
    return {(a, b) for a, targets in graph.items() for b in targets if _reaches(graph, b, a)}


def cross_domain_internal_imports() -> list[Import]:
    return [
        imp
        for imp in all_imports()
        if _top(imp.source) in DOMAINS
        and _top(imp.target) in DOMAINS
        and _top(imp.source) != _top(imp.target)
        and imp.target not in FRONT_DOORS
    ]


def _lines(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}" for a, b in sorted(pairs))


def test_the_scan_sees_the_code() -> None:
    # A guard against a scan that silently finds nothing (a moved root, a renamed package).
    assert len(all_imports()) > 1000
    assert ("api.app", "core.settings") in {(i.source, i.target) for i in all_imports()}


def test_layers() -> None:
    found = layer_violations()
    assert not found - LAYER_EXCEPTIONS, "imports against the layers:\n" + _lines(found - LAYER_EXCEPTIONS)
    stale = LAYER_EXCEPTIONS - found
    assert not stale, "layer exceptions no longer needed, remove them:\n" + _lines(stale)


def test_no_cycles_between_sub_packages() -> None:
    graph = unit_graph()
    on_cycle = cycle_edges(graph)
    allowed = {edge for edge in CYCLE_EXCEPTIONS if edge in on_cycle}
    without_exceptions = {a: targets - {b for (x, b) in allowed if x == a} for a, targets in graph.items()}
    remaining = cycle_edges(without_exceptions)
    assert not remaining, "import cycles between sub-packages:\n" + _lines(remaining)
    stale = CYCLE_EXCEPTIONS - on_cycle
    assert not stale, "cycle exceptions no longer on a cycle, remove them:\n" + _lines(stale)


def test_cross_domain_internal_imports_do_not_grow() -> None:
    found = cross_domain_internal_imports()
    listing = "\n".join(f"  {i.source}:{i.line} -> {i.target}" for i in found)
    models = sum(i.target.endswith(".models") for i in found)
    print(f"\n{len(found)} cross-domain imports of internals ({models} of ORM models):\n{listing}")
    assert len(found) <= CROSS_DOMAIN_CEILING, (
        f"{len(found)} cross-domain imports of internals, above the ceiling of "
        f"{CROSS_DOMAIN_CEILING}: import the other domain's front door instead.\n{listing}"
    )
