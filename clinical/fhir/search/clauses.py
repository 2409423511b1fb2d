"""SQL clauses for typed search values: each builder ORs the values of one parameter occurrence."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_
from sqlalchemy.orm import InstrumentedAttribute

from clinical.fhir.errors import InvalidSearch
from clinical.fhir.search.values import DateValue, ReferenceValue, StringValue, TokenValue

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
    column: Column, *, systems: Iterable[str | None] = (None,), mapping: Mapping[str, Any] | None = None
) -> Callable[[list[Any]], Clause]:
    """Matches codes in `column`; a value's system must be one of `systems` (None: codes without one).

    `mapping` translates FHIR codes into stored values (one, or a tuple of several) where they
    differ; codes missing from it match nothing.
    """
    allowed = set(systems)

    def build(values: list[Any]) -> Clause:
        matches: list[Clause] = []
        for value in values:
            assert isinstance(value, TokenValue)
            if value.system is not None and (value.system or None) not in allowed:
                continue
            if value.code is None:
                return column.is_not(None)
            if mapping is not None:
                stored = mapping.get(value.code)
                if isinstance(stored, tuple):
                    matches.append(column.in_(stored))
                elif stored is not None:
                    matches.append(column == stored)
                continue
            matches.append(column == value.code)
        return or_(*matches) if matches else false()

    return build


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


def parse_uuid(text: str | None) -> uuid.UUID | None:
    """The UUID `text` names, or None: our ids are UUIDs, anything else names nothing."""
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
