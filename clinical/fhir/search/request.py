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


@dataclass(frozen=True, slots=True)
class Criterion:
    """One occurrence of a parameter in the query: its values are OR-ed; occurrences are AND-ed."""

    name: str
    values: list[SearchValue]


@dataclass(frozen=True, slots=True)
class SearchRequest:
    criteria: list[Criterion] = field(default_factory=list)
    count: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    # The query as given, less the paging parameters: the base of the self and next links.
    echo: list[tuple[str, str]] = field(default_factory=list)

    def values_of(self, name: str) -> list[list[SearchValue]]:
        """Every occurrence of parameter `name`, each a list of OR-ed values."""
        return [c.values for c in self.criteria if c.name == name]


def parse_search(
    items: Sequence[tuple[str, str]], parameters: Mapping[str, SearchParameter], *, resource_type: str
) -> SearchRequest:
    """Checks and types the query; an unknown parameter or a malformed value is a 400, never ignored."""
    criteria: list[Criterion] = []
    echo: list[tuple[str, str]] = []
    count, offset = DEFAULT_PAGE_SIZE, 0
    for key, raw in items:
        if key == COUNT:
            count = min(non_negative(key, raw), MAX_PAGE_SIZE)
            continue
        if key == OFFSET:
            offset = non_negative(key, raw)
            continue
        if key == FORMAT:
            check_format(raw)
            continue
        name, _, modifier = key.partition(":")
        parameter = parameters.get(name)
        if parameter is None:
            supported = ", ".join(sorted([*parameters, COUNT, OFFSET]))
            raise UnsupportedParameter(
                f"The search parameter '{key}' is not supported on {resource_type}; supported: {supported}."
            )
        values = [
            parse_value(parameter.type, part, name=name, modifier=modifier or None) for part in _split_or(raw)
        ]
        criteria.append(Criterion(name, values))
        echo.append((key, raw))
    return SearchRequest(criteria=criteria, count=count, offset=offset, echo=echo)


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
