"""A lean HL7 v2 reader for PCD-01's flat segments: split once, read fields by number.

python-hl7 builds a full tree of every message (about 5 ms for a monitor's ORU^R01 on our CI
machine), which caps one MLLP connection near 200 messages a second; a gateway streams more. PCD-01
needs only fields and components of a few segments, so this splits each segment into fields once
and components on demand, with the delimiters the message declares in MSH-1 and MSH-2, and
unescapes only values that hold the escape character. Same answers as `clinical.lab.hl7.message.field`
for what PCD-01 reads (first repetition, first subcomponent, stripped).
"""

from __future__ import annotations

from clinical.lab import (
    MAX_MESSAGE_CHARS,
    ErrorCode,
    Hl7Header,
    Hl7Location,
    hl7_rejected,
    normalise_segment_breaks,
)


class Segment:
    """One segment's fields; `field(n, c)` is HL7's n-th field, c-th component (1-based)."""

    __slots__ = ("_component", "_escape", "_fields", "_repetition", "_sub", "kind")

    def __init__(self, text: str, separators: str) -> None:
        field_sep, self._component, self._repetition, self._escape, self._sub = (
            separators[0],
            separators[1],
            separators[2],
            separators[3],
            separators[4],
        )
        self._fields = text.split(field_sep)
        self.kind = self._fields[0].strip()
        if self.kind == "MSH":
            # MSH-1 is the field separator itself: MSH-n is the n-th piece, not the (n+1)-th.
            self._fields.insert(1, field_sep)

    def field(self, number: int, component: int = 1) -> str:
        if number >= len(self._fields):
            return ""
        value = self._fields[number].split(self._repetition, 1)[0]
        if component > 1 or self._component in value:
            parts = value.split(self._component)
            value = parts[component - 1] if component <= len(parts) else ""
        value = value.split(self._sub, 1)[0]
        if self._escape in value:
            value = self._unescape(value)
        return value.strip()

    def _unescape(self, value: str) -> str:
        esc = self._escape
        out, index = [], 0
        replacements = {"F": "|", "S": self._component, "T": self._sub, "R": self._repetition, "E": esc}
        while index < len(value):
            char = value[index]
            end = value.find(esc, index + 1) if char == esc else -1
            if end != -1 and value[index + 1 : end] in replacements:
                out.append(replacements[value[index + 1 : end]])
                index = end + 1
            else:
                out.append(char)
                index += 1
        return "".join(out)


def split_message(text: str) -> list[Segment]:
    """The message's segments; `Hl7Problem` (AR) when it is not one HL7 v2 message."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise hl7_rejected(ErrorCode.SEGMENT_SEQUENCE, f"message longer than {MAX_MESSAGE_CHARS} characters")
    text = normalise_segment_breaks(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise hl7_rejected(
            ErrorCode.SEGMENT_SEQUENCE, "not an HL7 v2 message: it must begin with an MSH segment"
        )
    separators = text[3:8]
    if len(set(separators)) != 5 or any(char.isalnum() or char.isspace() for char in separators):
        raise hl7_rejected(
            ErrorCode.DATA_TYPE, "MSH-1 and MSH-2 do not declare usable delimiters", Hl7Location("MSH", 1, 2)
        )
    segments = [Segment(line, separators) for line in text.split("\r")]
    if sum(1 for segment in segments if segment.kind == "MSH") != 1:
        raise hl7_rejected(ErrorCode.SEGMENT_SEQUENCE, "exactly one message (one MSH segment) per submission")
    return segments


def header_of(msh: Segment) -> Hl7Header:
    """What the MSH says, as the laboratory interface reads it (for the ACK)."""
    return Hl7Header(
        control_id=msh.field(10),
        sending_application=msh.field(3),
        sending_facility=msh.field(4),
        receiving_application=msh.field(5),
        receiving_facility=msh.field(6),
        message_code=msh.field(9, 1),
        trigger_event=msh.field(9, 2),
        version=msh.field(12),
        processing_id=msh.field(11),
        sent_at=msh.field(7),
    )
