"""Keyset pagination shared by every list the api serves: one page schema and one cursor format.

A cursor is the sort key of a page's last row, as a JSON array of strings in unpadded base64url:
opaque to clients, who only hand back the `next_cursor` of the page they have.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput

MAX_PAGE_SIZE = 200
T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last")


def encode_position(*key: str) -> str:
    """An opaque cursor naming a row by its sort key."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_position(cursor: str, *, length: int) -> list[str]:
    """The sort key a cursor names, of `length` parts; InvalidInput naming the parameter otherwise."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = None
    if not isinstance(key, list) or len(key) != length or not all(isinstance(part, str) for part in key):
        raise invalid_cursor()
    return key


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    """A cursor naming the last row of a page kept in (time, id) order."""
    return encode_position(moment.isoformat(), str(row_id))


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (time, id) position a cursor names; InvalidInput if it is not one of ours."""
    moment, row_id = decode_position(cursor, length=2)
    try:
        position = datetime.fromisoformat(moment), uuid.UUID(row_id)
    except ValueError:
        raise invalid_cursor() from None
    if position[0].tzinfo is None:
        raise invalid_cursor()
    return position


def in_time_order(
    query: Select[Any],
    *,
    time_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
    descending: bool,
) -> Select[Any]:
    """`query` in (time, id) order, after the cursor's row, with one extra row to detect more."""
    if descending:
        query = query.order_by(time_column.desc(), id_column.desc())
    else:
        query = query.order_by(time_column, id_column)
    query = query.limit(limit + 1)
    if cursor is None:
        return query
    moment, row_id = decode_cursor(cursor)
    if descending:
        return query.where(or_(time_column < moment, and_(time_column == moment, id_column < row_id)))
    return query.where(or_(time_column > moment, and_(time_column == moment, id_column > row_id)))


# The two directions by name, which reads better at the call sites than a flag.
newest_first = partial(in_time_order, descending=True)
oldest_first = partial(in_time_order, descending=False)


def split_page(rows: list[R], *, limit: int) -> tuple[list[R], bool]:
    """The rows of the page and whether another page follows."""
    return rows[:limit], len(rows) > limit


def invalid_cursor() -> InvalidInput:
    """The error for a cursor we did not issue; it names the parameter."""
    return InvalidInput(
        "The cursor is not valid; pass the next_cursor of a previous page.", extra={"field": "cursor"}
    )
