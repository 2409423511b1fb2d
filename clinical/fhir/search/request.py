"""A FHIR search request: the query string checked against what a resource type supports."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clinical.fhir.constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from clinical.fhir.errors import InvalidSearch, NotAcceptable, UnsupportedParameter
from clinical.fhir.search.values import ParamType, SearchValue, parse_value

# Result parameters the server understands; every other `_x` is refused, not ignored.
COUNT, OFFSET, FORMAT = "_count", "_offset", "_format"
INCLUDE, REVINCLUDE, SUMMARY, ELEMENTS, SORT, TOTAL = (
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_sort",
    "_total",
)
RESULT_PARAMETERS = (COUNT, OFFSET, INCLUDE, REVINCLUDE, SUMMARY, ELEMENTS, SORT, TOTAL)
SUMMARY_MODES = frozenset({"true", "false", "count", "text", "data"})
TOTAL_MODES = frozenset({"none", "estimate", "accurate"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
ACCEPTABLE_RANGES = JSON_FORMATS | {"*/*", "application/*"}

ClauseBuilder = Callable[[list[Any]], Any]


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One search parameter a resource type supports; `clause` turns OR-ed values into SQL."""

    name: str
    type: ParamType
    description: str
    clause: ClauseBuilder | None = None
    # A reference parameter names the type it refers to and its column, so it can be chained.
    target: str | None = None
    column: Any = None
    # The column `_sort` orders by, where sorting on this parameter is offered.
    sort: Any = None


@dataclass(frozen=True, slots=True)
class Chain:
    """`patient.identifier=...`: a criterion on the referenced resource, and that resource's id column."""

    parameter: SearchParameter
    target_id: Any


@dataclass(frozen=True, slots=True)
class Criterion:
    """One occurrence of a parameter in the query: its values are OR-ed; occurrences are AND-ed."""

    name: str
    values: list[SearchValue]
    chain: Chain | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    descending: bool


@dataclass(frozen=True, slots=True)
class SearchRequest:
    criteria: list[Criterion] = field(default_factory=list)
    count: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    # The query as given, less the paging parameters: the base of the self and next links.
    echo: list[tuple[str, str]] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    revincludes: list[str] = field(default_factory=list)
    summary: str | None = None
    elements: list[str] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    total: str = "accurate"

    def values_of(self, name: str) -> list[list[SearchValue]]:
        """Every occurrence of parameter `name`, each a list of OR-ed values."""
        return [c.values for c in self.criteria if c.name == name]


# For chained parameters: the search parameters and id column of a referenced type.
TargetLookup = Callable[[str], tuple[Mapping[str, SearchParameter], Any] | None]


def parse_search(
    items: Sequence[tuple[str, str]],
    parameters: Mapping[str, SearchParameter],
    *,
    resource_type: str,
    targets: TargetLookup | None = None,
) -> SearchRequest:
    """Checks and types the query; an unknown parameter or a malformed value is a 400, never ignored."""
    criteria: list[Criterion] = []
    echo: list[tuple[str, str]] = []
    results: dict[str, Any] = {"count": DEFAULT_PAGE_SIZE, "offset": 0}
    for key, raw in items:
        if key == FORMAT:
            check_format(raw)
            continue
        if key in RESULT_PARAMETERS:
            _result_parameter(results, key, raw, parameters)
            if key not in (COUNT, OFFSET):
                echo.append((key, raw))
            continue
        criteria.append(_criterion(key, raw, parameters, resource_type, targets))
        echo.append((key, raw))
    return SearchRequest(criteria=criteria, echo=echo, **results)


def _criterion(
    key: str,
    raw: str,
    parameters: Mapping[str, SearchParameter],
    resource_type: str,
    targets: TargetLookup | None,
) -> Criterion:
    name, _, modifier = key.partition(":")
    name, _, chained = name.partition(".")
    parameter = parameters.get(name)
    if parameter is None:
        supported = ", ".join(sorted([*parameters, *RESULT_PARAMETERS]))
        raise UnsupportedParameter(
            f"The search parameter '{key}' is not supported on {resource_type}; supported: {supported}."
        )
    chain = None
    if chained:
        target = targets(parameter.target) if targets is not None and parameter.target else None
        chained_parameter = target[0].get(chained) if target else None
        if target is None or chained_parameter is None or chained_parameter.clause is None:
            raise UnsupportedParameter(f"'{key}' cannot be chained: '{name}.{chained}' is not a search here.")
        chain, parameter = Chain(chained_parameter, target[1]), chained_parameter
    values = [
        parse_value(parameter.type, part, name=name, modifier=modifier or None) for part in _split_or(raw)
    ]
    return Criterion(name, values, chain)


def _result_parameter(
    results: dict[str, Any], key: str, raw: str, parameters: Mapping[str, SearchParameter]
) -> None:
    if key == COUNT:
        results["count"] = min(non_negative(key, raw), MAX_PAGE_SIZE)
    elif key == OFFSET:
        results["offset"] = non_negative(key, raw)
    elif key in (INCLUDE, REVINCLUDE):
        field_name = "includes" if key == INCLUDE else "revincludes"
        results.setdefault(field_name, []).append(raw.removesuffix(":iterate"))
    elif key == SUMMARY:
        if raw not in SUMMARY_MODES:
            raise InvalidSearch(f"'{SUMMARY}' is one of {', '.join(sorted(SUMMARY_MODES))}, not '{raw}'.")
        results["summary"] = raw
    elif key == ELEMENTS:
        results["elements"] = [part.strip() for part in raw.split(",") if part.strip()]
    elif key == TOTAL:
        if raw not in TOTAL_MODES:
            raise InvalidSearch(f"'{TOTAL}' is one of {', '.join(sorted(TOTAL_MODES))}, not '{raw}'.")
        results["total"] = raw
    else:
        results["sort"] = [_sort_key(part.strip(), parameters) for part in raw.split(",") if part.strip()]


def _sort_key(part: str, parameters: Mapping[str, SearchParameter]) -> SortKey:
    name = part.removeprefix("-")
    parameter = parameters.get(name)
    if parameter is None or parameter.sort is None:
        sortable = ", ".join(sorted(n for n, p in parameters.items() if p.sort is not None)) or "none"
        raise InvalidSearch(f"'{SORT}' cannot order by '{name}' here; sortable: {sortable}.")
    return SortKey(name, part.startswith("-"))


def check_format(raw: str) -> None:
    """Only JSON is served; `_format=xml` is answered 406 rather than with JSON anyway."""
    if raw.split(";")[0].strip() not in JSON_FORMATS:
        raise NotAcceptable(f"Only JSON is served here; '_format={raw}' cannot be honoured.")


def check_accept(header: str | None) -> None:
    """406 unless the `Accept` header admits JSON (no header, or a wildcard, admits it)."""
    if not header or not header.strip():
        return
    for media_range in header.split(","):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        refused = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in parameters)
        if not refused and kind.lower() in ACCEPTABLE_RANGES:
            return
    raise NotAcceptable(f"Only application/fhir+json is served here; 'Accept: {header}' cannot be honoured.")


def non_negative(key: str, raw: str) -> int:
    """A paging parameter's value; 400 unless it is a non-negative integer."""
    if not raw.isdigit():
        raise InvalidSearch(f"'{key}' must be a non-negative integer, not '{raw}'.")
    return int(raw)


def _split_or(raw: str) -> list[str]:
    # A comma separates OR-ed values; `\,` is a literal comma inside one value.
    parts, current, escaped = [], "", False
    for char in raw:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if any(part == "" for part in parts):
        raise InvalidSearch(f"The value '{raw}' has an empty alternative between commas.")
    return parts
