"""The package layering, checked on every run (docs/ARCHITECTURE.md explains the rules).

Every production module is parsed with `ast` (no import runs): relative imports are resolved, and
imports inside functions (or under `if TYPE_CHECKING:`) count as much as those at the top: they
bind the packages the same way. No contract has exceptions.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "api",
    "core",
    "clinical",
    "billing",
    "devices",
    "realtime",
    "notifications",
    "edge",
    "ownat",
    "bench",
)
DOMAINS = frozenset({"clinical", "billing", "devices", "realtime", "notifications"})

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

# Packages whose sub-packages are units with a front door: their `__init__`, the only module of the
# unit that other units may import (top-level modules such as core/db.py are public as they are).
WITH_FRONT_DOORS = frozenset({"core", *DOMAINS})


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


def past_front_doors() -> list[Import]:
    """Imports from outside a unit into one of its modules instead of the unit's front door."""
    return [
        imp
        for imp in all_imports()
        if _top(imp.target) in WITH_FRONT_DOORS
        and unit(imp.source) != unit(imp.target)
        and imp.target != unit(imp.target)
    ]


def _lines(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}" for a, b in sorted(pairs))


def test_the_scan_sees_the_code() -> None:
    # A guard against a scan that silently finds nothing (a moved root, a renamed package).
    assert len(all_imports()) > 1000
    assert ("api.app", "core.settings") in {(i.source, i.target) for i in all_imports()}


def test_layers() -> None:
    found = layer_violations()
    assert not found, "imports against the layers:\n" + _lines(found)


def test_no_cycles_between_sub_packages() -> None:
    on_cycle = cycle_edges(unit_graph())
    assert not on_cycle, "import cycles between sub-packages:\n" + _lines(on_cycle)


def test_other_units_are_entered_by_their_front_doors() -> None:
    # Production code outside a unit sees only what the unit's __init__ offers; tests may look inside.
    found = past_front_doors()
    listing = "\n".join(f"  {i.source}:{i.line} -> {i.target}" for i in found)
    assert not found, f"imports past a unit's front door (import the unit itself instead):\n{listing}"
