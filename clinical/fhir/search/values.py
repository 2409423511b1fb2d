"""Typed values of FHIR search parameters (string, token, date, reference) and their parsers."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from clinical.fhir.errors import InvalidSearch


class ParamType(enum.StrEnum):
    STRING = "string"
    TOKEN = "token"  # noqa: S105 (a FHIR search parameter type, not a secret)
    DATE = "date"
    REFERENCE = "reference"


@dataclass(frozen=True, slots=True)
class StringValue:
    text: str
    # None: starts-with, case-insensitive (FHIR's default); "exact" or "contains" otherwise.
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class TokenValue:
    # None: any system; "": explicitly no system (`|code`).
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date criterion: the prefix and the range [start, end) that the written value covers."""

    prefix: str
    start: datetime
    end: datetime

    @property
    def start_date(self) -> date:
        return self.start.date()

    @property
    def end_date(self) -> date:
        """The first day after the range (exclusive bound for date columns)."""
        day = self.end.date()
        return day if self.end.time() == time(0) else day + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    resource_type: str | None
    id: str


SearchValue = StringValue | TokenValue | DateValue | ReferenceValue

DATE_PREFIXES = ("eq", "ge", "le", "gt", "lt")
_STRING_MODIFIERS = frozenset({"exact", "contains"})
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?P<seconds>:\d{2}(?P<fraction>\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"
)
# A literal id: FHIR's id grammar.
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def parse_value(kind: ParamType, raw: str, *, name: str, modifier: str | None) -> SearchValue:
    """One value (between commas) of parameter `name`, typed; InvalidSearch if it is malformed."""
    if kind is ParamType.STRING:
        if modifier is not None and modifier not in _STRING_MODIFIERS:
            raise InvalidSearch(f"The modifier ':{modifier}' is not supported on '{name}'.")
        if not raw.strip():
            raise InvalidSearch(f"The parameter '{name}' needs a value.")
        return StringValue(raw.strip(), modifier)
    if modifier is not None:
        raise InvalidSearch(f"The modifier ':{modifier}' is not supported on '{name}'.")
    if kind is ParamType.TOKEN:
        return parse_token(raw, name=name)
    if kind is ParamType.DATE:
        return parse_date(raw, name=name)
    return parse_reference(raw, name=name)


def parse_token(raw: str, *, name: str) -> TokenValue:
    """`[system]|[code]` or `code`."""
    if "|" in raw:
        system, _, code = raw.partition("|")
        token = TokenValue(system=system, code=code or None)
    else:
        token = TokenValue(system=None, code=raw)
    if not token.code and not token.system:
        raise InvalidSearch(f"The parameter '{name}' needs a code, a system or both.")
    return token


def parse_reference(raw: str, *, name: str) -> ReferenceValue:
    """`Type/id`, a bare `id`, or an absolute URL ending in `Type/id`."""
    parts = raw.rstrip("/").split("/")
    resource_type, resource_id = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, parts[-1])
    if not ID_PATTERN.match(resource_id) or (resource_type is not None and not resource_type.isalpha()):
        raise InvalidSearch(f"The parameter '{name}' needs a reference such as 'Patient/<id>', not '{raw}'.")
    return ReferenceValue(resource_type, resource_id)


def parse_date(raw: str, *, name: str) -> DateValue:
    """A prefixed FHIR date or dateTime; a value without a time zone is refused, not guessed."""
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    text = raw[2:] if raw[:2].isalpha() else raw
    if prefix not in DATE_PREFIXES:
        raise InvalidSearch(
            f"The prefix '{prefix}' is not supported on '{name}'; use one of {', '.join(DATE_PREFIXES)}."
        )
    try:
        start, end = _date_range(text)
    except ValueError:
        raise InvalidSearch(
            f"'{text}' is not a date for '{name}': use YYYY, YYYY-MM, YYYY-MM-DD or a date-time with an "
            "offset, e.g. 2025-03-01T09:00:00+01:00."
        ) from None
    return DateValue(prefix, start, end)


def _date_range(text: str) -> tuple[datetime, datetime]:
    # Dates without a time stand for whole UTC days (months, years); stored times are UTC.
    if _YEAR.match(text):
        year = int(text)
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    month = _MONTH.match(text)
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        start = datetime(year, number, 1, tzinfo=UTC)
        following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
        return start, following
    if _DAY.match(text):
        day = date.fromisoformat(text)
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if "T" not in text or moment.tzinfo is None:
        raise ValueError("a date-time needs a time zone")
    # A written instant covers the precision it was written with (a minute, a second or less).
    written = _TIME.match(text)
    if written is None:
        raise ValueError("not a FHIR date-time")
    if written.group("fraction"):
        resolution = timedelta(microseconds=1)
    elif written.group("seconds"):
        resolution = timedelta(seconds=1)
    else:
        resolution = timedelta(minutes=1)
    moment = moment.astimezone(UTC)
    return moment, moment + resolution
