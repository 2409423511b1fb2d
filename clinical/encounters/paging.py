"""Keyset pagination, newest first, on a (time, id) pair: the clinical lists share it."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput

MAX_PAGE_SIZE = 200
T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next (older) one."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last")


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor naming the last row of a page."""
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; InvalidInput if it is not one of ours."""
    try:
        moment, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        position = datetime.fromisoformat(moment), uuid.UUID(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = None
    if position is None or position[0].tzinfo is None:
        raise InvalidInput("The cursor is not valid; pass the next_cursor of a previous page.")
    return position


def newest_first(
    query: Select[Any],
    *,
    time_column: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """`query` ordered newest first, after the cursor's row, with one extra row to detect more."""
    query = query.order_by(time_column.desc(), id_column.desc()).limit(limit + 1)
    if cursor is not None:
        moment, row_id = decode_cursor(cursor)
        query = query.where(or_(time_column < moment, and_(time_column == moment, id_column < row_id)))
    return query


def split_page(rows: list[R], *, limit: int) -> tuple[list[R], bool]:
    """The rows of the page and whether another page follows."""
    return rows[:limit], len(rows) > limit
