"""HL7 v2 batches (HL7 v2 chapter 2.10.3): FHS/BHS envelopes around messages, and their batch ACK.

A laboratory sends a day's results as one file: [FHS] BHS {MSH ...} BTS [FTS]. Each message in it
is filed on its own and acknowledged on its own; the answer is a batch of the same shape holding
one ACK per message, whose BHS-12 (and FHS-12) refer to the control ids of the batch received.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clinical.lab.hl7.ack import APPLICATION_NAME, COMPONENT, ESCAPE, FIELD, REPETITION, SUBCOMPONENT, escape
from clinical.lab.hl7.message import normalise_segment_breaks

BATCH_HEADERS = ("FHS", "BHS")
_ENVELOPE = frozenset({"FHS", "BHS", "BTS", "FTS"})


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the batch's headers say (the fields the answer needs); None where there was no such header."""

    file_header: list[str] | None = None
    batch_header: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    envelope: Envelope
    messages: list[str] = field(default_factory=list)


def is_batch(text: str) -> bool:
    """Whether the text is a batch (it begins with FHS or BHS) rather than one message."""
    return text.lstrip("\x00 \t\r\n\ufeff").startswith(BATCH_HEADERS)


def split_batch(text: str) -> Batch:
    """The batch's messages, each as its own text, and its headers' fields."""
    headers: dict[str, list[str]] = {}
    messages: list[list[str]] = []
    for segment in normalise_segment_breaks(text).split("\r"):
        name = segment[:3]
        if name in _ENVELOPE:
            if name in BATCH_HEADERS and name not in headers:
                headers[name] = _fields(segment)
            continue
        if name == "MSH" or not messages:
            messages.append([])
        messages[-1].append(segment)
    texts = ["\r".join(segments) + "\r" for segments in messages if segments]
    return Batch(Envelope(headers.get("FHS"), headers.get("BHS")), texts)


def _fields(segment: str) -> list[str]:
    # FHS-1 and BHS-1 are the field separator itself, as in MSH: index n is field n.
    separator = segment[3:4] or FIELD
    return [segment[:3], separator, *segment[4:].split(separator)]


def _field(fields: list[str] | None, number: int) -> str:
    return fields[number] if fields and number < len(fields) else ""


def build_batch_ack(envelope: Envelope, acks: list[str], *, now: datetime | None = None) -> str:
    """The batch answering `envelope`: one ACK per message, in order, counted in BTS."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    segments = []
    if envelope.file_header is not None:
        segments.append(_header("FHS", envelope.file_header, stamp))
    segments.append(_header("BHS", envelope.batch_header or envelope.file_header or [], stamp))
    segments += [segment for ack in acks for segment in ack.strip("\r").split("\r")]
    segments.append(FIELD.join(["BTS", str(len(acks))]))
    if envelope.file_header is not None:
        segments.append(FIELD.join(["FTS", "1"]))
    return "\r".join(segments) + "\r"


def _header(name: str, received: list[str], stamp: str) -> str:
    # Sender and receiver swap; field 11 is our control id, field 12 refers to the sender's.
    fields = [
        name,
        f"{COMPONENT}{REPETITION}{ESCAPE}{SUBCOMPONENT}",
        escape(_field(received, 5) or APPLICATION_NAME),
        escape(_field(received, 6)),
        escape(_field(received, 3)),
        escape(_field(received, 4)),
        stamp,
        "",
        "",
        "",
        uuid.uuid4().hex[:20].upper(),
        escape(_field(received, 11)),
    ]
    return FIELD.join(fields).rstrip(FIELD)
