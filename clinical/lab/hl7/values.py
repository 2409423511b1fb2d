"""HL7 v2 data types the laboratory reads: DTM times, NM and SN numbers, OBX-7 reference ranges."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from hl7.datatypes import parse_datetime

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_RANGE = re.compile(rf"\s*({_NUMBER.pattern})\s*-\s*({_NUMBER.pattern})\s*")
_BOUND = re.compile(rf"\s*(<=|>=|<|>)\s*({_NUMBER.pattern})\s*")
_SN_COMPARATORS = frozenset({"", "=", "<", ">", "<=", ">=", "<>"})


def decimal_or_none(text: str) -> Decimal | None:
    """The exact decimal a plain number spells (no exponents, no thousands separators), else None."""
    if not _NUMBER.fullmatch(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        return None


def parse_dtm(text: str, *, default_tz: tzinfo) -> datetime | None:
    """An HL7 DTM as an aware UTC datetime; a time without an offset is in `default_tz`.

    Raises ValueError for text that is not a DTM.
    """
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4,14}(?:\.\d{1,4})?(?:[+-]\d{4})?", text):
        raise ValueError(f"not an HL7 date/time: {text!r}")
    moment = parse_datetime(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


def dtm_offset(text: str) -> tzinfo | None:
    """The UTC offset written in a DTM (MSH-7 tells the sender's zone), if any."""
    text = text.strip()
    if not re.fullmatch(r"\d{4,14}(?:\.\d{1,4})?[+-]\d{4}", text):
        return None
    return parse_datetime(text).tzinfo


@dataclass(frozen=True, slots=True)
class StructuredNumeric:
    """An SN value such as `<^0.5`: a comparator and a number, or text for ratios and ranges."""

    text: str
    number: Decimal | None
    comparator: str | None


def parse_structured_numeric(components: list[str]) -> StructuredNumeric:
    """Reads SN components (comparator ^ num1 ^ separator ^ num2); ValueError when malformed."""
    comparator, first, separator, second = ([*components, "", "", "", ""])[:4]
    if comparator not in _SN_COMPARATORS:
        raise ValueError(f"unknown SN comparator {comparator!r}")
    number = decimal_or_none(first)
    if number is None:
        raise ValueError(f"SN needs a number, not {first!r}")
    if separator or second:
        # Ratios (1:128) and ranges (100-200) are kept as text; there is no single number.
        if separator not in {"-", "+", "/", ".", ":"} or decimal_or_none(second) is None:
            raise ValueError(f"unknown SN form {'^'.join(components)!r}")
        return StructuredNumeric(text=f"{first}{separator}{second}", number=None, comparator=None)
    return StructuredNumeric(text=f"{comparator}{first}", number=number, comparator=comparator or None)


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    low: Decimal | None
    high: Decimal | None
    text: str | None


def parse_reference_range(text: str) -> ReferenceRange:
    """OBX-7 as written ("3.5-5.1", "<5", ">=60", "Negative"); numeric bounds when it has them."""
    text = text.strip()
    if not text:
        return ReferenceRange(None, None, None)
    if match := _RANGE.fullmatch(text):
        return ReferenceRange(Decimal(match.group(1)), Decimal(match.group(2)), text)
    if match := _BOUND.fullmatch(text):
        bound = Decimal(match.group(2))
        if match.group(1).startswith("<"):
            return ReferenceRange(None, bound, text)
        return ReferenceRange(bound, None, text)
    return ReferenceRange(None, None, text)


# ED type of data ^ data subtype (HL7 tables 0191 and 0291) as media types; a subtype already
# written as a media type is taken as it is.
_MEDIA_TYPES = {
    "PDF": "application/pdf",
    "RTF": "application/rtf",
    "JPEG": "image/jpeg",
    "JPG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
    "HTML": "text/html",
    "XML": "text/xml",
}
_TEXT_TYPES = frozenset({"TEXT", "TX"})


def encapsulated_data(components: list[str]) -> str:
    """An ED value (source ^ type ^ subtype ^ encoding ^ data) as a `data:` URI; ValueError if unreadable."""
    _, kind, subtype, encoding, data = ([*components, "", "", "", "", ""])[:5]
    if not data:
        raise ValueError("ED.5 (the data) is empty")
    media_type = subtype.lower() if "/" in subtype else _MEDIA_TYPES.get(subtype.upper())
    if media_type is None:
        media_type = "text/plain" if kind.upper() in _TEXT_TYPES else "application/octet-stream"
    encoding = encoding.upper()
    try:
        if encoding == "BASE64":
            raw = base64.b64decode(data, validate=True)
        elif encoding == "HEX":
            raw = bytes.fromhex(data)
        elif encoding in ("A", ""):
            raw = data.encode("utf-8")
        else:
            raise ValueError(f"unknown ED encoding {encoding!r} (A, Hex and Base64 are read)")
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"ED.5 is not {encoding or 'A'} data: {error}") from error
    return f"data:{media_type};base64,{base64.b64encode(raw).decode()}"
