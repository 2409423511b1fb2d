"""IEEE 11073-10101 nomenclature (MDC codes): the measurements and units Ownat understands.

One table for every protocol, so that an SDC monitor, a PCD-01 gateway and anything else naming
the same code give the same metric. Monitors name what they measure with MDC codes, whatever the
transport: SDC (BICEPS) carries the context-free code (partition * 2**16 + term code, e.g. 150456
for MDC_PULS_OXIM_SAT_O2 = 2::19384), HL7 v2 (IHE PCD-01) the code with its reference id in OBX-3
("150456^MDC_PULS_OXIM_SAT_O2^MDC") and the unit in OBX-6. `metric_for` and `unit_for` take either
form (SDC); `find_term` and `find_unit` read an HL7 coded element's components (PCD-01).

Source of the mapping: the nomenclature of ISO/IEEE 11073-10101 (Point-of-care medical device
communication, Nomenclature) and its amendments, in the form the IHE PCD Technical Framework uses
it: the harmonised Rosetta Terminology Mapping (RTM, IHE PCD / NIST RTMMS), which gives each term
its reference id (MDC_...), its numeric code and the units a device may report it in. Vital signs
are in partition 2 (SCADA), units in partition 4 (DIM). The targets are Ownat's metrics
(`devices.protocol.METRICS`, whose LOINC codes are those of the FHIR vital-signs profile; the RTM's
LOINC columns give the same codes). The codes were written here from those references, term by term.

Anything not in these tables is unknown to Ownat: the reading is refused with its code (a dead
letter, a device event), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from devices.protocol.mqtt import metric_spec

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

    @property
    def loinc(self) -> str:
        """The LOINC code of the metric, as PCD-01 readings and storage name it."""
        return metric_spec(self.alias).code


@dataclass(frozen=True, slots=True)
class MdcUnit:
    """One MDC unit with its UCUM spelling as `devices.protocol.Reading.unit` expects it."""

    code: int
    refid: str
    ucum: str


_SCADA: Final = 2  # partition 2: supervisory control and data acquisition (measurements)
_DIM: Final = 4  # partition 4: dimensions (units)


def _m(term: int, refid: str, alias: str) -> MdcMetric:
    return MdcMetric(context_free_code(_SCADA, term), refid, alias)


# The first term of each metric is the one Ownat names it by when it writes MDC itself (FHIR
# DeviceMetric, PCD-01 out). Invasive (arterial) pressures are deliberately absent: Ownat's blood
# pressure metrics are the non-invasive ones, and an arterial line stored under them would mislead.
METRICS: tuple[MdcMetric, ...] = (
    _m(16770, "MDC_ECG_HEART_RATE", "hr"),
    # Pulse rates (from the oximeter or the cuff) are their own metric, 8889-8: a monitor sends one
    # beside the ECG's heart rate at the same instant, and stored as "hr" they would collide on
    # (device, metric, time). NEWS2 takes its pulse from either (`realtime.alarms.news2_inputs`).
    _m(18458, "MDC_PULS_OXIM_PULS_RATE", "pr"),
    _m(18442, "MDC_PULS_RATE", "pr"),
    _m(18474, "MDC_PULS_RATE_NON_INV", "pr"),
    _m(19384, "MDC_PULS_OXIM_SAT_O2", "spo2"),
    _m(18949, "MDC_PRESS_BLD_NONINV_SYS", "sbp"),
    _m(18950, "MDC_PRESS_BLD_NONINV_DIA", "dbp"),
    _m(18951, "MDC_PRESS_BLD_NONINV_MEAN", "map"),
    # The cuff pressures of the personal-health blood pressure monitor (IEEE 11073-10407).
    _m(19229, "MDC_PRESS_CUFF_SYS", "sbp"),
    _m(19230, "MDC_PRESS_CUFF_DIA", "dbp"),
    _m(19231, "MDC_PRESS_CUFF_MEAN", "map"),
    _m(20490, "MDC_RESP_RATE", "rr"),
    _m(20506, "MDC_TTHOR_RESP_RATE", "rr"),
    _m(20522, "MDC_AWAY_RESP_RATE", "rr"),
    _m(19292, "MDC_TEMP_BODY", "temp"),
    _m(19272, "MDC_TEMP", "temp"),
    _m(19320, "MDC_TEMP_TYMP", "temp"),
    # Sites of the personal-health thermometer (IEEE 11073-10408).
    _m(57348, "MDC_TEMP_RECT", "temp"),
    _m(57352, "MDC_TEMP_ORAL", "temp"),
    _m(57356, "MDC_TEMP_EAR", "temp"),
    _m(57380, "MDC_TEMP_AXILLA", "temp"),
    _m(20636, "MDC_AWAY_CO2_ET", "etco2"),
    _m(57664, "MDC_MASS_BODY_ACTUAL", "weight"),
)

# Units a metric above is reported in; `devices.protocol` converts kPa, degrees Fahrenheit, grams
# and pounds to the stored unit.
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
# Some PCD-01 senders put the UCUM unit itself in OBX-6 (coding system UCUM): accepted as it is.
_UCUM: Final = frozenset(u.ucum for u in UNITS)


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


def metric_of_alias(alias: str) -> MdcMetric | None:
    """The term Ownat names a metric by when it writes MDC (the first of the metric's terms)."""
    return next((m for m in METRICS if m.alias == alias), None)


def find_term(identifier: str, text: str) -> MdcMetric | None:
    """The term of an HL7 OBX-3 (identifier, text): by numeric code, or else by reference id."""
    if identifier.strip().isdigit():
        return metric_for(identifier)
    return (metric_for(text) if text else None) or (metric_for(identifier) if identifier else None)


def find_unit(identifier: str, text: str, system: str) -> str | None:
    """The UCUM unit of an HL7 OBX-6 (identifier, text, coding system), or None when unknown."""
    by_code = unit_for(identifier) if identifier.strip().isdigit() else None
    if by_code is not None:
        return by_code.ucum
    by_refid = (unit_for(text) if text else None) or (unit_for(identifier) if identifier else None)
    if by_refid is not None:
        return by_refid.ucum
    if system.upper() == "UCUM" and identifier in _UCUM:
        return identifier
    return None
