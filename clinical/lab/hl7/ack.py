"""Original-mode acknowledgements (ACK) of received messages, per HL7 v2 chapter 2."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from clinical.lab.hl7.errors import AckCode, ErrorCode, Hl7Problem, Location
from clinical.lab.hl7.message import SUPPORTED_VERSIONS, Header

# Our own messages always use the standard delimiters, whatever the sender used.
FIELD, COMPONENT, REPETITION, ESCAPE, SUBCOMPONENT = "|", "^", "~", "\\", "&"
DEFAULT_VERSION = "2.5.1"
APPLICATION_NAME = "OWNAT"
_V2_VERSION = re.compile(r"^2\.\d{1,2}(\.\d{1,2})?$")
_ESCAPES = {
    ESCAPE: "\\E\\",
    FIELD: "\\F\\",
    COMPONENT: "\\S\\",
    SUBCOMPONENT: "\\T\\",
    REPETITION: "\\R\\",
    "\r": "\\X0D\\",
    "\n": "\\X0A\\",
}


@dataclass(frozen=True, slots=True)
class AckOutcome:
    """What to tell the sender: the MSA-1 code and, unless accepted, why."""

    code: AckCode
    text: str | None = None
    error: ErrorCode | None = None
    location: Location | None = None

    @classmethod
    def accepted(cls, text: str | None = None) -> AckOutcome:
        return cls(AckCode.ACCEPT, text)

    @classmethod
    def from_problem(cls, problem: Hl7Problem) -> AckOutcome:
        return cls(problem.ack, problem.reason, problem.code, problem.location)


def escape(text: str) -> str:
    """Text made safe inside a field: delimiters become HL7 escape sequences."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def ack_version(header: Header | None) -> str:
    """The version to answer in: the sender's own, when it names an HL7 v2 version at all."""
    if header and (header.version in SUPPORTED_VERSIONS or _V2_VERSION.match(header.version)):
        return header.version
    return DEFAULT_VERSION


def _message_type(trigger: str, version: str) -> str:
    # MSH-9 grew over the versions: ID in 2.1, message^event from 2.2, ^structure from 2.3.1.
    if version == "2.1":
        return "ACK"
    if version in ("2.2", "2.3"):
        return f"ACK{COMPONENT}{escape(trigger)}"
    return f"ACK{COMPONENT}{escape(trigger)}{COMPONENT}ACK"


def build_ack(header: Header | None, outcome: AckOutcome, *, now: datetime | None = None) -> str:
    """The ACK answering a message (its MSH as read, or None if unreadable), ending in CR."""
    h = header
    version = ack_version(h)
    trigger = h.trigger_event if h and h.trigger_event else "R01"
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    # The ACK goes back the way the message came: its receiver is our sender and vice versa.
    msh = [
        "MSH",
        f"{COMPONENT}{REPETITION}{ESCAPE}{SUBCOMPONENT}",
        escape(h.receiving_application if h and h.receiving_application else APPLICATION_NAME),
        escape(h.receiving_facility if h else ""),
        escape(h.sending_application if h else ""),
        escape(h.sending_facility if h else ""),
        stamp,
        "",
        _message_type(trigger, version),
        uuid.uuid4().hex[:20].upper(),
        escape(h.processing_id if h and h.processing_id else "P"),
        version,
    ]
    segments = [FIELD.join(msh)]
    msa = ["MSA", outcome.code.value, escape(h.control_id if h else "")]
    if outcome.text:
        msa.append(escape(outcome.text[:80]))  # MSA-3 is ST(80) where it is still defined
    segments.append(FIELD.join(msa))
    if outcome.error is not None:
        segments.append(_err_segment(outcome, version))
    return "\r".join(segments) + "\r"


def _err_segment(outcome: AckOutcome, version: str) -> str:
    assert outcome.error is not None
    code = outcome.error
    location = outcome.location
    text = escape(outcome.text or code.text)
    if _before_2_5(version):
        # v2.3 and v2.4: ERR-1 is ELD, segment^sequence^field^code&text&table.
        where = (
            [location.segment, str(location.sequence), str(location.field or "")]
            if location
            else ["", "", ""]
        )
        eld = COMPONENT.join([*where, SUBCOMPONENT.join([str(code.value), escape(code.text), "HL70357"])])
        return FIELD.join(["ERR", eld])
    erl = ""
    if location:
        erl = COMPONENT.join([location.segment, str(location.sequence), str(location.field or "")]).rstrip(
            COMPONENT
        )
    hl7_code = COMPONENT.join([str(code.value), escape(code.text), "HL70357"])
    # ERR-2 location, ERR-3 code, ERR-4 severity (E error), ERR-8 message for a person.
    return FIELD.join(["ERR", "", erl, hl7_code, "E", "", "", "", text])


def _before_2_5(version: str) -> bool:
    return version.startswith(("2.1", "2.2", "2.3", "2.4"))
