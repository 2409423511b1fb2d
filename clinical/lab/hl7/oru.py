"""ORU^R01 content: the patient's identifiers, and per order (OBR) its observations (OBX)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

import hl7

from clinical.lab.hl7.errors import ErrorCode, Hl7Problem, Location, application_error
from clinical.lab.hl7.message import Header, components, field, repetitions, segment_id
from clinical.lab.hl7.structure import SpecimenGroup, order_groups
from clinical.lab.hl7.values import (
    ReferenceRange,
    decimal_or_none,
    dtm_offset,
    encapsulated_data,
    parse_dtm,
    parse_reference_range,
    parse_structured_numeric,
)
from clinical.lab.terms import AbnormalFlag, ResultStatus, ValueType
from clinical.lab.units import Unit, unit_from_coding

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
    "ED": ValueType.ENCAPSULATED_DATA,
    "FN": ValueType.FAMILY_NAME,
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
    unit: Unit | None
    reference: ReferenceRange
    abnormal_flag: AbnormalFlag | None
    status: ResultStatus
    observed_at: datetime | None
    note: str | None = None


@dataclass(slots=True)
class OrderObservations:
    """One OBR with its results; observations about its specimen that are not results become notes."""

    sequence: int
    placer_order_number: str
    filler_order_number: str | None
    observed_at: datetime | None
    reported_at: datetime | None = None
    note: str | None = None
    observations: list[Observation] = dataclass_field(default_factory=list)
    # OBX after an SPM that may be results (LOINC-coded and readable); the order decides.
    specimen_observations: list[Observation] = dataclass_field(default_factory=list)
    specimen_notes: list[str] = dataclass_field(default_factory=list)


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
    orders = []
    for group in order_groups(message):
        placer_from_orc = field(group.common_order, 2) if group.common_order is not None else ""
        order = _order_group(group.segment, group.location, placer_from_orc, zone)
        order.note = _joined(group.notes)
        for observation in group.observations:
            order.observations.append(
                _observation(
                    observation.segment, observation.location, order.observed_at, zone, observation.notes
                )
            )
        for specimen in group.specimens:
            _read_specimen(order, specimen, zone)
        if not order.observations and not order.specimen_observations:
            raise application_error(
                ErrorCode.SEGMENT_SEQUENCE,
                f"OBR for order {order.placer_order_number} carries no OBX",
                Location("OBR", order.sequence),
            )
        orders.append(order)
    return orders


def _read_specimen(order: OrderObservations, specimen: SpecimenGroup, zone: tzinfo) -> None:
    """SPM-4 (type) and SPM-17 (collection time) describe the specimen; its OBX may be results."""
    kind = field(specimen.segment, 4, 2) or field(specimen.segment, 4, 1)
    if kind:
        order.specimen_notes.append(f"Specimen: {kind}")
    if order.observed_at is None:
        order.observed_at = _time(specimen.segment, 17, specimen.location, zone)
    for group in specimen.observations:
        try:
            order.specimen_observations.append(
                _observation(group.segment, group.location, order.observed_at, zone, group.notes)
            )
        except Hl7Problem:
            # Not a result we could file (an uncoded specimen detail): kept as a note of the report.
            order.specimen_notes.append(_observation_text(group.segment))


def _observation_text(obx: hl7.Segment) -> str:
    name = field(obx, 3, 2) or field(obx, 3, 1) or "Specimen observation"
    value = " ".join(
        p for p in (field(obx, 5, 2) or field(obx, 5, 1), field(obx, 6, 2) or field(obx, 6, 1)) if p
    )
    return f"{name}: {value}" if value else name


def _joined(notes: list[str]) -> str | None:
    return "\n".join(notes) or None


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
        reported_at=_time(obr, 22, here, zone),
    )


def _observation(
    obx: hl7.Segment, here: Location, fallback_time: datetime | None, zone: tzinfo, notes: list[str]
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
        unit=None if value_type is ValueType.ENCAPSULATED_DATA else unit_from_coding(*components(obx, 6, 6)),
        reference=parse_reference_range(field(obx, 7)),
        abnormal_flag=_abnormal_flag(obx, at),
        status=status,
        observed_at=_time(obx, 14, at, zone) or fallback_time,
        note=_joined(notes),
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
    if value_type is ValueType.ENCAPSULATED_DATA:
        try:
            return encapsulated_data(components(obx, 5, 5)), None, None
        except ValueError as error:
            raise application_error(
                ErrorCode.DATA_TYPE, f"OBX-5 is not encapsulated data: {error}", where
            ) from error
    if value_type is ValueType.CODED:
        code, text = field(obx, 5, 1), field(obx, 5, 2)
        value = text or code
    elif value_type is ValueType.FAMILY_NAME:
        # FN: surname ^ own surname prefix ^ own surname ^ partner's prefix ^ partner's surname.
        value = " ".join(part for part in components(obx, 5, 5) if part)
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
