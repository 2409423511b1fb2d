"""Tabular reports: the shape every analytics query returns, its CSV form and the SQL they share.

A report is a header and rows of plain values, so the API can send it as JSON or CSV and a page can
chart it without knowing which domain computed it. The few expressions that differ between
PostgreSQL and SQLite (elapsed seconds between two timestamps, median) live here, once.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Float, cast, func, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput

MAX_RANGE_DAYS = 731  # two years: longer ranges are a data export, not a report

Cell = str | int | float | None


class Report(BaseModel):
    """A computed report: what was asked, the column names and the rows."""

    name: str
    title: str
    start: date
    end: date  # exclusive
    columns: list[str]
    rows: list[list[Cell]]
    notes: list[str] = Field(default_factory=list)  # how a figure is defined, where not obvious


def check_range(start: date, end: date) -> None:
    """Refuses an empty, reversed or overlong date range with a clear message."""
    if end <= start:
        raise InvalidInput(f"The range is empty: 'end' ({end}) must be after 'start' ({start}).")
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(f"A report covers at most {MAX_RANGE_DAYS} days; ask for a shorter range.")


def to_csv(report: Report) -> str:
    """The report as CSV text (RFC 4180, header row first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    writer.writerows(report.rows)
    return out.getvalue()


# Reports sort and hash hundreds of thousands of rows; PostgreSQL's default 4 MB per operation would
# spill them to disk. Raised for the report's own transaction only (SET LOCAL).
REPORT_WORK_MEM = "64MB"


async def prepare_session(session: AsyncSession) -> None:
    """Gives the report's transaction the memory its aggregates need (PostgreSQL; nothing on SQLite)."""
    if dialect_name(session) == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def elapsed_seconds(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """Seconds from `start` to `end` (timestamp columns) as a float expression."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


def median(values: Sequence[float]) -> float | None:
    """The median of already-fetched values (the SQLite fallback of `percentile_cont(0.5)`)."""
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`: report ranges are whole UTC days."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
