"""IEEE 11073-10101 nomenclature (MDC codes): the measurements and units Ownat understands.

Monitors name what they measure with MDC codes, whatever the transport: SDC (BICEPS) carries the
context-free code (partition * 2**16 + term code, e.g. 150456 for MDC_PULS_OXIM_SAT_O2 = 2::19384),
HL7 v2 (IHE PCD-01) the code with its reference id ("150456^MDC_PULS_OXIM_SAT_O2^MDC"). Both are
looked up here. One table for every protocol, so that an SDC monitor and a PCD-01 gateway sending
the same code give the same metric.

Source of the mapping: the term codes and reference ids are those of ISO/IEEE 11073-10101 as
published in the NIST Rosetta Terminology Mapping (RTMMS) and used in the IHE PCD Technical
Framework's examples; the LOINC codes are those of the FHIR vital-signs profile that
`devices.protocol.METRICS` stores (the "Rosetta" LOINC columns give the same codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# BICEPS's default coding system, which SDC leaves out of a descriptor's Type when it is this one.
MDC_CODING_SYSTEM: Final = "urn:oid:1.2.840.10004.1.1.1.0.0.1"


def context_free_code(partition: int, term: int) -> int:
    """The 32-bit code of a term: partition in the upper 16 bits (10101 section A.3)."""
    return partition << 16 | term


@dataclass(frozen=True, slots=True)
class MdcMetric:
    """One MDC measurement that maps to an Ownat metric (`devices.protocol.METRICS` alias)."""

    code: int
    refid: str
    alias: str


@dataclass(frozen=True, slots=True)
class MdcUnit:
    """One MDC unit with its UCUM spelling as `devices.protocol.Reading.unit` expects it."""

    code: int
    refid: str
    ucum: str


_SCADA: Final = 2  # partition 2: supervisory control and data acquisition (measurements)
_DIM: Final = 4  # partition 4: dimensions (units)

METRICS: tuple[MdcMetric, ...] = (
    MdcMetric(context_free_code(_SCADA, 16770), "MDC_ECG_HEART_RATE", "hr"),
    # The pulse rates stand in for the heart rate: Ownat stores one rate, as the monitors show it
    # when no ECG is attached.
    MdcMetric(context_free_code(_SCADA, 18442), "MDC_PULS_RATE", "hr"),
    MdcMetric(context_free_code(_SCADA, 18458), "MDC_PULS_OXIM_PULS_RATE", "hr"),
    MdcMetric(context_free_code(_SCADA, 19384), "MDC_PULS_OXIM_SAT_O2", "spo2"),
    MdcMetric(context_free_code(_SCADA, 20490), "MDC_RESP_RATE", "rr"),
    MdcMetric(context_free_code(_SCADA, 18949), "MDC_PRESS_BLD_NONINV_SYS", "sbp"),
    MdcMetric(context_free_code(_SCADA, 18950), "MDC_PRESS_BLD_NONINV_DIA", "dbp"),
    MdcMetric(context_free_code(_SCADA, 19292), "MDC_TEMP_BODY", "temp"),
    MdcMetric(context_free_code(_SCADA, 19272), "MDC_TEMP", "temp"),
    MdcMetric(context_free_code(_SCADA, 57664), "MDC_MASS_BODY_ACTUAL", "weight"),
)

UNITS: tuple[MdcUnit, ...] = (
    MdcUnit(context_free_code(_DIM, 2720), "MDC_DIM_BEAT_PER_MIN", "/min"),
    MdcUnit(context_free_code(_DIM, 2784), "MDC_DIM_RESP_PER_MIN", "/min"),
    MdcUnit(context_free_code(_DIM, 544), "MDC_DIM_PERCENT", "%"),
    MdcUnit(context_free_code(_DIM, 3872), "MDC_DIM_MMHG", "mm[Hg]"),
    MdcUnit(context_free_code(_DIM, 3843), "MDC_DIM_KILO_PASCAL", "kPa"),
    MdcUnit(context_free_code(_DIM, 6048), "MDC_DIM_DEGC", "Cel"),
    MdcUnit(context_free_code(_DIM, 4416), "MDC_DIM_FAHR", "[degF]"),
    MdcUnit(context_free_code(_DIM, 1731), "MDC_DIM_KILO_G", "kg"),
    MdcUnit(context_free_code(_DIM, 1728), "MDC_DIM_X_G", "g"),
    MdcUnit(context_free_code(_DIM, 1760), "MDC_DIM_LB", "[lb_av]"),
)

_METRIC_BY_KEY: Final = {key: m for m in METRICS for key in (m.code, m.refid)}
_UNIT_BY_KEY: Final = {key: u for u in UNITS for key in (u.code, u.refid)}


def _key(code: int | str) -> int | str:
    # SDC gives the code as a decimal string; PCD-01 as the number or the reference id.
    if isinstance(code, str) and code.strip().isdigit():
        return int(code)
    return code.strip() if isinstance(code, str) else code


def metric_for(code: int | str) -> MdcMetric | None:
    """The metric of an MDC measurement code or reference id; None for one Ownat does not store."""
    return _METRIC_BY_KEY.get(_key(code))


def unit_for(code: int | str) -> MdcUnit | None:
    """The UCUM unit of an MDC unit code or reference id; None for one not in the table."""
    return _UNIT_BY_KEY.get(_key(code))
