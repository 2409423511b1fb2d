"""Reading an IHE PCD-01 (Device Enterprise Communication) ORU^R01 into observations per device.

A PCD-01 message carries one or more OBR groups; each OBX is placed in the device's containment
tree by OBX-4, "MDS.VMD.CHANNEL.METRIC" (e.g. 1.1.1.1): rows without a value (OBX-11 "X") describe
the medical device system, virtual device or channel; rows with a value are metrics. The device is
named by OBX-18 (equipment instance identifier, an EUI-64) on the metric or, most often, on its MDS
row; the patient by PID-3 and the bed by PV1-3. The time is OBX-14, else OBR-7, else MSH-7.

Numeric metrics (NM) with a known MDC code and unit become readings in Ownat's wire units (see
`devices.protocol`'s MDC table); everything else that carries a value (an unknown code or unit, another value type, a
broken number or time) is a problem with its reason, for the dead letters: nothing is dropped.
Segments are split by `segments` (fast); the header check, DTM and ACK are the laboratory
interface's (`clinical.lab.hl7`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clinical.lab import Hl7Header, check_oru_header, parse_dtm
from devices.pcd.segments import Segment, header_of, split_message
from devices.protocol import find_term, find_unit

PCD01_PROFILE_OID = "1.3.6.1.4.1.19376.1.6.1.1.1"  # MSH-21 of IHE PCD-01 (DEC)
_EUI64 = re.compile(r"^[0-9A-Fa-f]{16}$")


@dataclass(frozen=True, slots=True)
class PcdReading:
    metric: str  # LOINC code
    value: float
    unit: str  # UCUM
    time: datetime
    obx: int  # OBX-1, to name it in a reason


@dataclass(slots=True)
class PcdReport:
    """What one PCD-01 message says: readings grouped by device EUI-64, and what could not be read."""

    header: Hl7Header
    patient_identifier: str  # PID-3 id, "" when absent
    point_of_care: tuple[str, str, str]  # PV1-3 (unit, room, bed)
    readings: dict[str, list[PcdReading]] = field(default_factory=dict)  # EUI-64 -> readings
    problems: list[str] = field(default_factory=list)
    unknown_codes: int = 0


def is_pcd01(raw: str) -> bool:
    """Whether a raw HL7 message is a device observation: the PCD-01 profile in MSH-21, or an
    observation named by an MDC code (OBX-3). A laboratory result may give its units in MDC (OBX-6)
    and stays a laboratory result."""
    if PCD01_PROFILE_OID in raw[:4096]:
        return True
    separator = raw[3:4] or "|"
    for line in raw.replace("\n", "\r").split("\r"):
        if line.startswith("OBX"):
            fields = line.split(separator)
            components = fields[3].split("^") if len(fields) > 3 else []
            if len(components) > 2 and components[2].strip() == "MDC":
                return True
    return False


def read_report(raw: str, *, now: datetime) -> PcdReport:
    """The report of a PCD-01 message; `Hl7Problem` (AR) when it is not a readable ORU^R01 at all."""
    segments = split_message(raw)
    msh = segments[0]
    header = header_of(msh)
    check_oru_header(header)
    report = PcdReport(header=header, patient_identifier="", point_of_care=("", "", ""))
    fallback_time = _time_or_none(header.sent_at) or now
    obr_time = fallback_time
    # Equipment identifiers by containment prefix ("1", "1.1", ...), inherited down the tree.
    equipment: dict[str, str] = {}
    sender_eui = _eui_of(msh.field(3, 2), msh.field(3, 3))
    for segment in segments:
        kind = segment.kind
        if kind == "PID" and not report.patient_identifier:
            report.patient_identifier = segment.field(3, 1)
        elif kind == "PV1":
            report.point_of_care = (
                segment.field(3, 1),
                segment.field(3, 2),
                segment.field(3, 3),
            )
        elif kind == "OBR":
            obr_time = _time_or_none(segment.field(7)) or fallback_time
            equipment.clear()
        elif kind == "OBX":
            _read_obx(report, segment, equipment, obr_time, sender_eui)
    return report


def _read_obx(
    report: PcdReport, obx: Segment, equipment: dict[str, str], obr_time: datetime, sender_eui: str
) -> None:
    number = obx.field(1) or "?"
    where = f"OBX {number}"
    value_type = obx.field(2).upper()
    value_text = obx.field(5)
    code, code_text = obx.field(3, 1), obx.field(3, 2)
    containment = obx.field(4)
    parts = [p for p in containment.split(".") if p and p != "0"]
    own = _eui_of(*(obx.field(18, c) for c in (1, 2, 3, 4)))
    if own:
        equipment[".".join(parts)] = own
    if not value_text:
        return  # a node of the containment tree (MDS, VMD, channel), or a metric with no value now
    if value_type != "NM":
        report.problems.append(
            f"{where} ({code or code_text}): value type {value_type or '(empty)'} is not stored"
        )
        return
    term = find_term(code, code_text)
    if term is None:
        report.unknown_codes += 1
        report.problems.append(
            f"{where}: MDC code {code or '(empty)'} {code_text} is not mapped to a vital sign"
        )
        return
    unit = find_unit(obx.field(6, 1), obx.field(6, 2), obx.field(6, 3))
    if unit is None:
        report.problems.append(f"{where} ({term.refid}): unit {obx.field(6, 1)} {obx.field(6, 2)} is unknown")
        return
    try:
        value = float(value_text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        report.problems.append(f"{where} ({term.refid}): value {value_text!r} is not a number")
        return
    try:
        time = parse_dtm(obx.field(14), default_tz=UTC) or obr_time
    except ValueError as error:
        report.problems.append(f"{where} ({term.refid}): OBX-14 {error}")
        return
    device = own or _inherited(equipment, parts) or sender_eui
    if not device:
        report.problems.append(f"{where} ({term.refid}): no device named (OBX-18 EUI-64 on it or its MDS)")
        return
    report.readings.setdefault(device.upper(), []).append(
        PcdReading(term.loinc, value, unit, time, int(number) if number.isdigit() else 0)
    )


def _inherited(equipment: dict[str, str], parts: list[str]) -> str:
    for length in range(len(parts) - 1, 0, -1):
        found = equipment.get(".".join(parts[:length]))
        if found:
            return found
    return ""


def _eui_of(*components: str) -> str:
    """The EUI-64 among an EI's components (IHE writes it as id^EUI-64 or ^^id^EUI-64)."""
    for index, value in enumerate(components):
        if value.upper() == "EUI-64" and index > 0 and _EUI64.match(components[index - 1]):
            return components[index - 1].upper()
    return next((c.upper() for c in components if _EUI64.match(c)), "")


def _time_or_none(text: str) -> datetime | None:
    try:
        return parse_dtm(text, default_tz=UTC)
    except ValueError:
        return None
