"""Receiving one IHE PCD-01 message: readings into the ingest pipeline, the rest dead-lettered, an ACK.

Each device's readings become one Ownat vitals message on that device's topic, handed to the ingest
worker's `submit` (the single way readings enter the platform besides MQTT): the same checks,
store, dead letters, live fan-out and alarm evaluation as any MQTT message. What cannot be read
(an unknown MDC code or unit, another value type, no registered device) is kept as one dead letter
per message, holding the raw HL7 and every reason. The ACK, in the sender's HL7 version, goes out
only after that commit: AA when everything was stored, AA with the refusals named when some were,
AE when nothing could be stored (the message is kept all the same), AR when it is not an ORU^R01.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from clinical.lab import (
    AckCode,
    AckOutcome,
    ErrorCode,
    Hl7Header,
    Hl7Problem,
    build_ack,
    decode_payload,
    parse_message,
    read_header,
)
from core.db import utc_now
from devices.ingest import LOCAL, Classified, Received
from devices.pcd.identify import DeviceFinder
from devices.pcd.report import PcdReading, PcdReport, is_pcd01, read_report
from devices.protocol import MAX_READINGS_PER_MESSAGE, metric_spec, topic_for

log = logging.getLogger(__name__)

# Dead-letter reason codes of this carrier (the ingest worker's own codes apply to its checks).
MALFORMED = "malformed"
UNKNOWN_CODE = "unknown-code"
UNSTORED_VALUE = "unstored-value"
UNKNOWN_DEVICE = "unknown-device"
TOPIC_PREFIX = "hl7/pcd-01"  # dead letters' "topic": where they came from, and the message's id


class ReadingInlet(Protocol):
    """The ingest worker, as the PCD receiver uses it."""

    async def submit(self, messages: Sequence[Received | Classified]) -> None: ...


class PcdReceiver:
    """Turns PCD-01 messages into readings for `inlet`; one per process, shared by its listeners."""

    def __init__(self, *, inlet: ReadingInlet, finder: DeviceFinder) -> None:
        self._inlet = inlet
        self._finder = finder

    def accepts(self, raw: str) -> bool:
        """Whether `raw` is a device observation (PCD-01) rather than, say, a laboratory result."""
        return is_pcd01(raw)

    async def receive(self, raw: str | bytes, *, channel: str = "mllp") -> str:
        """The ACK of one message, once what it carried is committed (raises if it could not be)."""
        text = decode_payload(raw) if isinstance(raw, bytes) else raw
        now = utc_now()
        try:
            report = read_report(text, now=now)
        except Hl7Problem as problem:
            header = _header_or_none(text)
            await self._inlet.submit([_dead_letter(text, header, MALFORMED, problem.reason, now, channel)])
            return build_ack(header, AckOutcome.from_problem(problem), now=now)
        messages: list[Received | Classified] = []
        problems = list(report.problems)
        for eui64, readings in report.readings.items():
            device_id = await self._finder.device_id(
                eui64, point_of_care=report.point_of_care, patient_identifier=report.patient_identifier
            )
            if device_id is None:
                problems.append(
                    f"device EUI-64 {eui64} is not registered, and no device is bound to bed "
                    f"{'/'.join(p for p in report.point_of_care if p) or '(none)'} or patient "
                    f"{report.patient_identifier or '(none)'}: {len(readings)} readings not stored"
                )
                continue
            kept, refused = _checked(readings)
            problems.extend(refused)
            messages.extend(_vitals_messages(device_id, kept, now))
        if problems:
            code = _reason_code(report, problems)
            messages.append(_dead_letter(text, report.header, code, "; ".join(problems), now, channel))
        await self._inlet.submit(messages)
        stored = sum(1 for m in messages if isinstance(m, Received))
        return build_ack(report.header, _outcome(stored, problems), now=now)


def _checked(readings: list[PcdReading]) -> tuple[list[PcdReading], list[str]]:
    """Readings the wire format accepts, and the reasons for the others (checked one by one here, so
    that one impossible value does not refuse its neighbours, as it would inside one message)."""
    kept: list[PcdReading] = []
    refused: list[str] = []
    seen: set[tuple[str, datetime]] = set()
    for reading in readings:
        spec = metric_spec(reading.metric)
        try:
            value = spec.to_stored_unit(reading.value, reading.unit)
        except ValueError as error:
            refused.append(f"OBX {reading.obx}: {error}")
            continue
        if not spec.minimum <= value <= spec.maximum:
            refused.append(
                f"OBX {reading.obx}: {spec.alias} {value:g} {spec.unit} is physiologically impossible "
                f"(accepted {spec.minimum:g}..{spec.maximum:g} {spec.unit})"
            )
            continue
        if (reading.metric, reading.time) in seen:
            # Stored under one key (device, metric, time): a second value would vanish as a repeat.
            refused.append(f"OBX {reading.obx}: a second {spec.alias} at {reading.time.isoformat()}")
            continue
        seen.add((reading.metric, reading.time))
        kept.append(reading)
    return kept, refused


def _vitals_messages(device_id: str, readings: list[PcdReading], now: datetime) -> list[Received]:
    topic = topic_for(device_id, "vitals")
    messages = []
    for start in range(0, len(readings), MAX_READINGS_PER_MESSAGE):
        chunk = readings[start : start + MAX_READINGS_PER_MESSAGE]
        payload = {
            "v": 1,
            "seq": 0,  # the wire format wants one; nothing is acknowledged by it on this path
            "readings": [
                {"metric": r.metric, "value": r.value, "unit": r.unit, "time": _wire_time(r.time)}
                for r in chunk
            ],
        }
        messages.append(Received(topic, json.dumps(payload).encode(), 0, 1, LOCAL, now))
    return messages


def _wire_time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _dead_letter(
    raw: str, header: Hl7Header | None, code: str, reason: str, now: datetime, channel: str
) -> Classified:
    control_id = header.control_id if header is not None else ""
    topic = f"{TOPIC_PREFIX}/{channel}/{control_id}"[:512]
    received = Received(topic, raw.encode("utf-8", errors="replace"), 0, 1, LOCAL, now)
    message = Classified(received, "dead", topic_kind="pcd-01")
    message.refuse(code, reason)
    return message


def _reason_code(report: PcdReport, problems: list[str]) -> str:
    if report.unknown_codes:
        return UNKNOWN_CODE
    if any("not registered" in p for p in problems):
        return UNKNOWN_DEVICE
    return UNSTORED_VALUE


def _outcome(stored: int, problems: list[str]) -> AckOutcome:
    if not problems:
        return AckOutcome.accepted()
    summary = f"{len(problems)} observation(s) not stored, kept as dead letters: {problems[0]}"
    if stored:
        return AckOutcome.accepted(summary)
    return AckOutcome(AckCode.ERROR, summary, ErrorCode.TABLE_VALUE_NOT_FOUND)


def _header_or_none(text: str) -> Hl7Header | None:
    try:
        return read_header(parse_message(text))
    except Hl7Problem:
        return None
