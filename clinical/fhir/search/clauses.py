"""SQL clauses for typed search values: each builder ORs the values of one parameter occurrence."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Enum, and_, false, func, or_
from sqlalchemy.orm import InstrumentedAttribute

from clinical.fhir.errors import InvalidSearch
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import DateValue, ParamType, ReferenceValue, StringValue, TokenValue

Column = InstrumentedAttribute[Any] | ColumnElement[Any]
Clause = ColumnElement[bool]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def string_match(column: Column, value: StringValue) -> Clause:
    """FHIR string matching: case-insensitive starts-with by default, `:exact` and `:contains`."""
    if value.modifier == "exact":
        return column == value.text
    pattern = _escape_like(value.text.lower())
    pattern = f"%{pattern}%" if value.modifier == "contains" else f"{pattern}%"
    return func.lower(column).like(pattern, escape="\\")


def string_clause(*columns: Column) -> Callable[[list[Any]], Clause]:
    """Matches when any of `columns` matches any of the values."""

    def build(values: list[Any]) -> Clause:
        return or_(*(string_match(column, value) for value in values for column in columns))

    return build


def token_clause(
    column: Column, *, system: str | None, mapping: Mapping[str, Any] | None = None
) -> Callable[[list[Any]], Clause]:
    """Matches codes in `column`, whose codes all belong to code system `system` (None: no system).

    The token grammar (`code`, `system|code`, `|code`, `system|`) is decided by `wanted_codes`;
    `mapping` translates FHIR codes into stored values (one, or a tuple of several) where they
    differ. A code the column cannot hold (outside its value set) matches nothing.
    """
    allowed = _storable_values(column)

    def build(values: list[Any]) -> Clause:
        wanted = wanted_codes(values, system)
        if wanted.any_code:
            return column.is_not(None)
        stored: list[Any] = []
        for code in sorted(wanted.codes):
            found = mapping.get(code) if mapping is not None else code
            stored += list(found) if isinstance(found, tuple) else [found] if found is not None else []
        stored = [value for value in stored if allowed is None or str(value) in allowed]
        return column.in_(stored) if stored else false()

    return build


@dataclass(frozen=True, slots=True)
class WantedCodes:
    """The codes a token criterion asks for; `any_code` when it said `system|` with the right system."""

    codes: frozenset[str] = frozenset()
    any_code: bool = False

    def admits(self, code: str) -> bool:
        return self.any_code or code in self.codes


def wanted_codes(values: Iterable[Any], system: str | None) -> WantedCodes:
    """The codes OR-ed token values ask for, of an element whose codes are in `system`.

    `code` matches the code in any system, `system|code` only in that system, `|code` only codes
    without a system, and `system|` any code of that system.
    """
    codes: set[str] = set()
    for value in values:
        assert isinstance(value, TokenValue)
        if not token_system_matches(value, system):
            continue
        if value.code is None:
            return WantedCodes(any_code=True)
        codes.add(value.code)
    return WantedCodes(frozenset(codes))


def token_system_matches(value: TokenValue, system: str | None) -> bool:
    """Whether a token's system part admits codes of `system` (None: codes without a system)."""
    if value.system is None:
        return True
    return (value.system or None) == system


def _storable_values(column: Column) -> frozenset[str] | None:
    # A value-set column refuses other strings when a query binds them; they can match nothing.
    kind = getattr(column, "type", None)
    if isinstance(kind, Enum) and kind.enums:
        return frozenset(kind.enums)
    return None


def id_clause(column: Column) -> Callable[[list[Any]], Clause]:
    """`_id`: a UUID primary key; ids that are not UUIDs match nothing."""

    def build(values: list[Any]) -> Clause:
        ids = [parse_uuid(value.code if isinstance(value, TokenValue) else value.id) for value in values]
        wanted = [i for i in ids if i is not None]
        return column.in_(wanted) if wanted else false()

    return build


def reference_clause(column: Column, *, resource_type: str) -> Callable[[list[Any]], Clause]:
    """Matches rows whose `column` holds the referenced `resource_type` id."""

    def build(values: list[Any]) -> Clause:
        ids: list[uuid.UUID] = []
        for value in values:
            assert isinstance(value, ReferenceValue)
            if value.resource_type not in (None, resource_type):
                raise InvalidSearch(f"This parameter refers to {resource_type}, not {value.resource_type}.")
            parsed = parse_uuid(value.id)
            if parsed is not None:
                ids.append(parsed)
        return column.in_(ids) if ids else false()

    return build


def date_match(column: Column, value: DateValue, *, date_only: bool = False) -> Clause:
    """`column` against the range a prefixed date covers (see FHIR's date search semantics)."""
    start: Any = value.start_date if date_only else value.start
    end: Any = value.end_date if date_only else value.end
    if value.prefix == "eq":
        return and_(column >= start, column < end)
    if value.prefix == "ge":
        return column >= start
    if value.prefix == "gt":
        return column >= end
    if value.prefix == "le":
        return column < end
    return column < start


def date_clause(column: Column, *, date_only: bool = False) -> Callable[[list[Any]], Clause]:
    """Matches when `column` satisfies any of the prefixed dates."""

    def build(values: list[Any]) -> Clause:
        return or_(*(date_match(column, value, date_only=date_only) for value in values))

    return build


def period_match(start: Column, end: Column, value: DateValue) -> Clause:
    """A Period [start, end] against a prefixed date, with R4's semantics for ranges.

    `eq`: the period lies within the date's range; `ge`/`gt`: the period reaches the range above
    the date; `le`/`lt`: it begins in the range below. An open end (still going) reaches forever;
    a period without a start matches nothing.
    """
    begun, open_end = start.is_not(None), end.is_(None)
    if value.prefix == "eq":
        return and_(start >= value.start, end.is_not(None), end < value.end)
    if value.prefix == "ge":
        return and_(begun, or_(open_end, end >= value.start))
    if value.prefix == "gt":
        return and_(begun, or_(open_end, end >= value.end))
    if value.prefix == "le":
        return start < value.end
    return start < value.start


def period_clause(start: Column, end: Column) -> Callable[[list[Any]], Clause]:
    """Matches when the period [start, end] satisfies any of the prefixed dates."""

    def build(values: list[Any]) -> Clause:
        return or_(*(period_match(start, end, value) for value in values))

    return build


def parse_uuid(text: str | None) -> uuid.UUID | None:
    """The UUID `text` names, or None: our ids are UUIDs, anything else names nothing."""
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def reference_parameter(
    name: str, column: Column, *, resource_type: str, description: str
) -> SearchParameter:
    """A reference parameter to `resource_type` held in `column` (chainable: `name.<target parameter>`)."""
    return SearchParameter(
        name,
        ParamType.REFERENCE,
        description,
        reference_clause(column, resource_type=resource_type),
        target=resource_type,
        column=column,
    )


def patient_parameters(column: Column) -> dict[str, SearchParameter]:
    """`patient` and `subject`: the Patient a resource is about."""
    return {
        name: reference_parameter(name, column, resource_type="Patient", description="The patient")
        for name in ("patient", "subject")
    }
