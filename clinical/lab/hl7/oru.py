"""ORU^R01 content: the patient's identifiers, and per order (OBR) its observations (OBX)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

import hl7

from clinical.lab.hl7.errors import ErrorCode, Location, application_error
from clinical.lab.hl7.message import Header, components, field, repetitions, segment_id
from clinical.lab.hl7.values import (
    ReferenceRange,
    decimal_or_none,
    dtm_offset,
    parse_dtm,
    parse_reference_range,
    parse_structured_numeric,
)
from clinical.lab.terms import AbnormalFlag, ResultStatus, ValueType

# OBX-11 codes we file; the others (X cannot be obtained, D delete, W wrong, ...) go to a person.
RESULT_STATUSES = {"P": ResultStatus.PRELIMINARY, "F": ResultStatus.FINAL, "C": ResultStatus.CORRECTED}
VALUE_TYPES = {
    "NM": ValueType.NUMERIC,
    "SN": ValueType.STRUCTURED_NUMERIC,
    "ST": ValueType.STRING,
    "TX": ValueType.TEXT,
    "FT": ValueType.FORMATTED_TEXT,
    "CE": ValueType.CODED,
    "CWE": ValueType.CODED,
}
LOINC_SYSTEM = "LN"


@dataclass(frozen=True, slots=True)
class PatientIdentifier:
    value: str
    assigning_authority: str
    type_code: str


@dataclass(frozen=True, slots=True)
class Observation:
    """One OBX, checked and typed."""

    sequence: int
    value_type: ValueType
    loinc_code: str
    display: str
    value: str
    value_numeric: Decimal | None
    comparator: str | None
    unit: str | None
    reference: ReferenceRange
    abnormal_flag: AbnormalFlag | None
    status: ResultStatus
    observed_at: datetime | None


@dataclass(slots=True)
class OrderObservations:
    """One OBR with its OBX segments."""

    sequence: int
    placer_order_number: str
    filler_order_number: str | None
    observed_at: datetime | None
    observations: list[Observation] = dataclass_field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OruMessage:
    header: Header
    patient_identifiers: list[PatientIdentifier]
    patient_name: str
    orders: list[OrderObservations]

    @property
    def medical_record_numbers(self) -> list[str]:
        """PID-3 identifiers typed MR (medical record number), or untyped ones."""
        return [i.value for i in self.patient_identifiers if i.type_code in ("MR", "")]


def read_oru(message: hl7.Message, header: Header, *, default_tz: tzinfo = UTC) -> OruMessage:
    """Reads an ORU^R01 whose header was checked; an `Hl7Problem` (AE) for content we cannot file."""
    # A time without an offset is the sender's local time; MSH-7 tells us their zone, if it has one.
    zone = dtm_offset(header.sent_at) or default_tz
    pids = [s for s in message if segment_id(s) == "PID"]
    if len(pids) != 1:
        raise application_error(
            ErrorCode.SEGMENT_SEQUENCE,
            f"expected exactly one PID segment (one patient per message), found {len(pids)}",
        )
    identifiers = _patient_identifiers(pids[0])
    orders = _order_groups(message, zone)
    if not orders:
        raise application_error(ErrorCode.SEGMENT_SEQUENCE, "the message has no OBR segment", Location("OBR"))
    family, given = field(pids[0], 5, 1), field(pids[0], 5, 2)
    return OruMessage(header, identifiers, " ".join(p for p in (given, family) if p), orders)


def _patient_identifiers(pid: hl7.Segment) -> list[PatientIdentifier]:
    identifiers = [
        PatientIdentifier(value, field(pid, 3, 4, rep), field(pid, 3, 5, rep))
        for rep in range(1, repetitions(pid, 3) + 1)
        if (value := field(pid, 3, 1, rep))
    ]
    if not identifiers:
        raise application_error(
            ErrorCode.REQUIRED_FIELD_MISSING, "PID-3 (patient identifiers) is empty", Location("PID", 1, 3)
        )
    return identifiers


def _order_groups(message: hl7.Message, zone: tzinfo) -> list[OrderObservations]:
    orders: list[OrderObservations] = []
    placer_from_orc = ""
    counts: dict[str, int] = {}
    in_specimen = False
    for segment in message:
        name = segment_id(segment)
        counts[name] = counts.get(name, 0) + 1
        here = Location(name, counts[name])
        if name == "ORC":
            placer_from_orc = field(segment, 2)
        elif name == "OBR":
            orders.append(_order_group(segment, here, placer_from_orc, zone))
            in_specimen = False
        elif name == "SPM":
            in_specimen = True
        elif name == "OBX":
            if not orders:
                raise application_error(ErrorCode.SEGMENT_SEQUENCE, "an OBX comes before any OBR", here)
            if in_specimen:
                raise application_error(
                    ErrorCode.SEGMENT_SEQUENCE,
                    "observations about a specimen (OBX after SPM) are not filed",
                    here,
                )
            group = orders[-1]
            group.observations.append(_observation(segment, here, group.observed_at, zone))
    for group in orders:
        if not group.observations:
            raise application_error(
                ErrorCode.SEGMENT_SEQUENCE,
                f"OBR for order {group.placer_order_number} carries no OBX",
                Location("OBR", group.sequence),
            )
    return orders


def _order_group(obr: hl7.Segment, here: Location, placer_from_orc: str, zone: tzinfo) -> OrderObservations:
    placer = field(obr, 2) or placer_from_orc
    if not placer:
        raise application_error(
            ErrorCode.REQUIRED_FIELD_MISSING,
            "OBR-2 and ORC-2 (placer order number) are empty",
            Location("OBR", here.sequence, 2),
        )
    return OrderObservations(
        sequence=here.sequence,
        placer_order_number=placer,
        filler_order_number=field(obr, 3) or None,
        observed_at=_time(obr, 7, here, zone),
    )


def _observation(
    obx: hl7.Segment, here: Location, fallback_time: datetime | None, zone: tzinfo
) -> Observation:
    at = Location(here.segment, here.sequence)
    type_code = field(obx, 2)
    value_type = VALUE_TYPES.get(type_code)
    if value_type is None:
        raise application_error(
            ErrorCode.DATA_TYPE,
            f"OBX-2 value type {type_code or '(empty)'} is not filed",
            Location(at.segment, at.sequence, 2),
        )
    code, display = _loinc(obx, at)
    value, number, comparator = _value(obx, value_type, at)
    status_code = field(obx, 11)
    status = RESULT_STATUSES.get(status_code)
    if status is None:
        raise application_error(
            ErrorCode.TABLE_VALUE_NOT_FOUND,
            f"OBX-11 result status {status_code or '(empty)'} is not filed automatically (P, F and C are)",
            Location(at.segment, at.sequence, 11),
        )
    return Observation(
        sequence=at.sequence,
        value_type=value_type,
        loinc_code=code,
        display=display,
        value=value,
        value_numeric=number,
        comparator=comparator,
        unit=field(obx, 6, 1) or field(obx, 6, 2) or None,
        reference=parse_reference_range(field(obx, 7)),
        abnormal_flag=_abnormal_flag(obx, at),
        status=status,
        observed_at=_time(obx, 14, at, zone) or fallback_time,
    )


def _loinc(obx: hl7.Segment, at: Location) -> tuple[str, str]:
    identifier, text, system, alt_identifier, alt_text, alt_system = components(obx, 3, 6)
    if system == LOINC_SYSTEM and identifier:
        return identifier, text
    if alt_system == LOINC_SYSTEM and alt_identifier:
        return alt_identifier, alt_text or text
    raise application_error(
        ErrorCode.TABLE_VALUE_NOT_FOUND,
        f"OBX-3 {identifier or '(empty)'} is not LOINC-coded (coding system LN)",
        Location(at.segment, at.sequence, 3),
    )


def _value(obx: hl7.Segment, value_type: ValueType, at: Location) -> tuple[str, Decimal | None, str | None]:
    where = Location(at.segment, at.sequence, 5)
    if value_type is ValueType.STRUCTURED_NUMERIC:
        try:
            sn = parse_structured_numeric(components(obx, 5, 4))
        except ValueError as error:
            raise application_error(
                ErrorCode.DATA_TYPE, f"OBX-5 is not a structured numeric: {error}", where
            ) from error
        return sn.text, sn.number, sn.comparator
    if value_type is ValueType.CODED:
        code, text = field(obx, 5, 1), field(obx, 5, 2)
        value = text or code
    else:
        # Text results may repeat OBX-5, one repetition per line.
        value = "\n".join(field(obx, 5, 1, rep) for rep in range(1, repetitions(obx, 5) + 1)).strip()
    if not value:
        raise application_error(ErrorCode.REQUIRED_FIELD_MISSING, "OBX-5 (observation value) is empty", where)
    if value_type is ValueType.NUMERIC:
        number = decimal_or_none(value)
        if number is None:
            raise application_error(ErrorCode.DATA_TYPE, f"OBX-5 {value!r} is not a number (type NM)", where)
        return value, number, None
    return value, None, None


def _abnormal_flag(obx: hl7.Segment, at: Location) -> AbnormalFlag | None:
    # OBX-8 may repeat; the first interpretation is the one reported (later ones qualify it).
    code = field(obx, 8)
    if not code:
        return None
    try:
        return AbnormalFlag(code)
    except ValueError:
        raise application_error(
            ErrorCode.TABLE_VALUE_NOT_FOUND,
            f"OBX-8 abnormal flag {code!r} is not in HL7 table 0078",
            Location(at.segment, at.sequence, 8),
        ) from None


def _time(segment: hl7.Segment, number: int, at: Location, zone: tzinfo) -> datetime | None:
    try:
        return parse_dtm(field(segment, number), default_tz=zone)
    except ValueError as error:
        raise application_error(
            ErrorCode.DATA_TYPE, f"{at.segment}-{number}: {error}", Location(at.segment, at.sequence, number)
        ) from error
