"""Plausibility rules for clinical dates: nothing recorded as happening after today, nobody born before 1880."""

from __future__ import annotations

from datetime import date, timedelta

from core.db import utc_now

# The furthest-ahead time zone (UTC+14, Kiribati) is already on tomorrow's date for part of the UTC
# day; a baby born there today must not be refused as "born in the future".
_FURTHEST_AHEAD = timedelta(hours=14)
# Older than any person ever recorded (122 years); anything before is a typo.
EARLIEST_BIRTH_DATE = date(1880, 1, 1)


def latest_possible_today() -> date:
    """Today's date in the time zone furthest ahead of UTC."""
    return (utc_now() + _FURTHEST_AHEAD).date()


def check_not_future(value: date | None, what: str) -> date | None:
    """`value` unchanged, or ValueError (a 422 from pydantic) if it is after today anywhere on Earth."""
    if value is not None and value > latest_possible_today():
        raise ValueError(f"{what} {value.isoformat()} is in the future")
    return value


def check_birth_date(value: date | None) -> date | None:
    """A birth date that is neither in the future nor before 1880."""
    check_not_future(value, "birth date")
    if value is not None and value < EARLIEST_BIRTH_DATE:
        raise ValueError(f"birth date {value.isoformat()} is before {EARLIEST_BIRTH_DATE.isoformat()}")
    return value


def check_order(start: date | None, end: date | None, start_name: str, end_name: str) -> None:
    """ValueError if `end` is before `start` (both known)."""
    if start is not None and end is not None and end < start:
        raise ValueError(f"{end_name} {end.isoformat()} is before {start_name} {start.isoformat()}")
