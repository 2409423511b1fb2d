"""The parameters of `Patient/{id}/$everything` (R4's OperationDefinition Patient-everything)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from clinical.fhir.constants import MAX_PAGE_SIZE
from clinical.fhir.errors import InvalidSearch, UnsupportedParameter
from clinical.fhir.provider import RecordFilter
from clinical.fhir.search.request import COUNT, FORMAT, OFFSET, check_format, non_negative
from clinical.fhir.search.values import parse_date

START, END, TYPE, SINCE = "start", "end", "_type", "_since"
EVERYTHING_PARAMETERS = (START, END, TYPE, SINCE, COUNT, OFFSET)
# Without `_count` the whole (bounded) record comes on one page, as before paging was asked for.
UNPAGED = 10_000


@dataclass(frozen=True, slots=True)
class EverythingOptions:
    record: RecordFilter
    types: frozenset[str] | None = None
    count: int = UNPAGED
    offset: int = 0
    # The parameters as given, less paging: the base of the self and next links.
    echo: list[tuple[str, str]] = field(default_factory=list)

    def wants(self, resource_type: str) -> bool:
        """Whether `_type` (if given) asks for this resource type."""
        return self.types is None or resource_type in self.types


def parse_everything(items: Sequence[tuple[str, str]], *, served: set[str], limit: int) -> EverythingOptions:
    """Checks the operation's parameters; anything else is refused with 400, not ignored."""
    start = end = since = None
    types: set[str] | None = None
    count, offset, echo = UNPAGED, 0, []
    for key, raw in items:
        if key == FORMAT:
            check_format(raw)
            continue
        if key not in EVERYTHING_PARAMETERS:
            raise UnsupportedParameter(
                f"'{key}' is not a parameter of $everything; supported: {', '.join(EVERYTHING_PARAMETERS)}."
            )
        if key == COUNT:
            count = min(non_negative(key, raw), MAX_PAGE_SIZE)
        elif key == OFFSET:
            offset = non_negative(key, raw)
        else:
            echo.append((key, raw))
        if key == START:
            start = parse_date(raw, name=key).start
        elif key == END:
            end = parse_date(raw, name=key).end
        elif key == SINCE:
            since = _instant(raw)
        elif key == TYPE:
            types = _types(raw, served, types)
    record = RecordFilter(limit=limit, start=start, end=end, since=since)
    return EverythingOptions(record, frozenset(types) if types is not None else None, count, offset, echo)


def _instant(raw: str) -> datetime:
    value = parse_date(raw, name=SINCE)
    if "T" not in raw:
        raise InvalidSearch(f"'{SINCE}' is an instant with a time and an offset, not '{raw}'.")
    return value.start


def _types(raw: str, served: set[str], already: set[str] | None) -> set[str]:
    asked = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(asked - served)
    if not asked or unknown:
        raise InvalidSearch(
            f"'{TYPE}' names resource types this server serves, not: {', '.join(unknown) or raw}."
        )
    return asked if already is None else already & asked
