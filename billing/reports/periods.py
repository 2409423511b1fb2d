"""The one dialect-specific piece of the reports: a UTC timestamp as a period label, in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, literal
from sqlalchemy.sql.elements import ColumnElement

from billing.reports.schemas import Granularity

# Same labels on both dialects: 2026-11-20, 2026-11, 2026.
_POSTGRES = {Granularity.DAY: "YYYY-MM-DD", Granularity.MONTH: "YYYY-MM", Granularity.YEAR: "YYYY"}
_SQLITE = {Granularity.DAY: "%Y-%m-%d", Granularity.MONTH: "%Y-%m", Granularity.YEAR: "%Y"}


def period_label(column: Any, granularity: Granularity, dialect: str) -> ColumnElement[str]:
    """`column` (timestamptz on PostgreSQL, UTC text on SQLite) as its period's label."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), literal(_POSTGRES[granularity], String))
    return func.strftime(literal(_SQLITE[granularity], String), column)
