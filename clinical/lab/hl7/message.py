"""Reading an HL7 v2 message with python-hl7: parsing, safe field access and the MSH header."""

from __future__ import annotations

from dataclasses import dataclass

import hl7

from clinical.lab.hl7.errors import ErrorCode, Location, rejected

MAX_MESSAGE_CHARS = 1_000_000  # a lab result message is a few kilobytes; this bounds the worst case


def decode_payload(payload: bytes) -> str:
    """Message bytes as text: UTF-8 (v2.8's preference), else Windows-1252/Latin-1, which never fail."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", errors="replace")


def storable(text: str) -> str:
    """The text with NUL characters, which PostgreSQL text cannot hold, made visible instead."""
    return text.replace("\x00", "\ufffd")


def normalise_segment_breaks(text: str) -> str:
    """HL7 separates segments with CR; senders over HTTP or from files often use LF or CRLF.

    Blank lines between segments are dropped too.
    """
    segments = text.replace("\r\n", "\r").replace("\n", "\r").strip("\x00 \t\ufeff").split("\r")
    return "\r".join(segment for segment in segments if segment.strip())


def parse_message(text: str) -> hl7.Message:
    """The message's parse tree; an `Hl7Problem` (AR) if the text is not one HL7 v2 message."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise rejected(ErrorCode.SEGMENT_SEQUENCE, f"message longer than {MAX_MESSAGE_CHARS} characters")
    text = normalise_segment_breaks(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise rejected(ErrorCode.SEGMENT_SEQUENCE, "not an HL7 v2 message: it must begin with an MSH segment")
    _check_delimiters(text)
    try:
        message = hl7.parse(text)
    except (hl7.ParseException, ValueError, IndexError, KeyError) as error:
        raise rejected(ErrorCode.SEGMENT_SEQUENCE, f"not an HL7 v2 message: {error}") from error
    if sum(1 for segment in message if str(segment[0]) == "MSH") != 1:
        raise rejected(ErrorCode.SEGMENT_SEQUENCE, "exactly one message (one MSH segment) per submission")
    return message


def _check_delimiters(text: str) -> None:
    # python-hl7 trusts MSH-1 and MSH-2 (it asserts on nonsense); we check them first.
    separator = text[3]
    end = text.find(separator, 4)
    encoding = text[4:end] if end != -1 else ""
    delimiters = separator + encoding
    if (
        not 4 <= len(encoding) <= 5  # component, repetition, escape, subcomponent (+ truncation, v2.7)
        or len(set(delimiters)) != len(delimiters)
        or any(char.isalnum() or char.isspace() for char in delimiters)
    ):
        raise rejected(
            ErrorCode.DATA_TYPE, "MSH-1 and MSH-2 do not declare usable delimiters", Location("MSH", 1, 2)
        )


def field(segment: hl7.Segment, number: int, component: int = 1, repetition: int = 1, sub: int = 1) -> str:
    """One (unescaped) value of a segment, or "" where the message leaves it out."""
    if number >= len(segment):
        return ""
    try:
        return str(segment.extract_field(1, number, repetition, component, sub)).strip()
    except IndexError:
        return ""


def components(segment: hl7.Segment, number: int, count: int, repetition: int = 1) -> list[str]:
    """The first `count` components of a field."""
    return [field(segment, number, index, repetition) for index in range(1, count + 1)]


def repetitions(segment: hl7.Segment, number: int) -> int:
    """How many repetitions a field carries (0 when the segment stops before it)."""
    if number >= len(segment):
        return 0
    value = segment(number)
    if value and isinstance(value[0], hl7.Repetition):
        return len(value)
    return 1


def segment_id(segment: hl7.Segment) -> str:
    return str(segment[0]).strip()


@dataclass(frozen=True, slots=True)
class Header:
    """What the MSH says about the message and its sender."""

    control_id: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_code: str
    trigger_event: str
    version: str
    processing_id: str
    sent_at: str


def read_header(message: hl7.Message) -> Header:
    """The MSH fields, leniently: checking them is the caller's business."""
    msh = message.segment("MSH")
    return Header(
        control_id=field(msh, 10),
        sending_application=field(msh, 3),
        sending_facility=field(msh, 4),
        receiving_application=field(msh, 5),
        receiving_facility=field(msh, 6),
        message_code=field(msh, 9, 1),
        trigger_event=field(msh, 9, 2),
        version=field(msh, 12),
        processing_id=field(msh, 11),
        sent_at=field(msh, 7),
    )


SUPPORTED_VERSIONS = frozenset(
    {
        "2.1",
        "2.2",
        "2.3",
        "2.3.1",
        "2.4",
        "2.5",
        "2.5.1",
        "2.6",
        "2.7",
        "2.7.1",
        "2.8",
        "2.8.1",
        "2.8.2",
        "2.9",
    }
)
CONTROL_ID_MAX_LENGTH = 199  # MSH-10 is ST(199) from v2.5


def check_oru_header(header: Header) -> None:
    """AR unless the header announces an ORU^R01 of a version we read, with a control id."""
    msh = Location("MSH")
    if not header.control_id:
        raise rejected(
            ErrorCode.REQUIRED_FIELD_MISSING, "MSH-10 (message control id) is empty", Location("MSH", 1, 10)
        )
    if len(header.control_id) > CONTROL_ID_MAX_LENGTH:
        raise rejected(ErrorCode.DATA_TYPE, "MSH-10 (message control id) is too long", Location("MSH", 1, 10))
    if header.message_code != "ORU":
        raise rejected(
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            f"message type {header.message_code or '(empty)'} is not accepted here; send ORU^R01",
            Location(msh.segment, 1, 9),
        )
    if header.trigger_event != "R01":
        raise rejected(
            ErrorCode.UNSUPPORTED_EVENT,
            f"trigger event {header.trigger_event or '(empty)'} is not accepted here; send ORU^R01",
            Location(msh.segment, 1, 9),
        )
    if header.version not in SUPPORTED_VERSIONS:
        raise rejected(
            ErrorCode.UNSUPPORTED_VERSION,
            f"HL7 version {header.version or '(empty)'} is not supported (2.1 to 2.9 are)",
            Location(msh.segment, 1, 12),
        )
