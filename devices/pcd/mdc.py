"""IEEE 11073-10101 (MDC) terms -> Ownat's metrics (LOINC) and MDC units -> UCUM.

Source: the nomenclature of ISO/IEEE 11073-10101 (Point-of-care medical device communication,
Nomenclature) and its amendments, in the form the IHE PCD Technical Framework uses it: the
harmonised Rosetta Terminology Mapping (RTM, IHE PCD / NIST), which gives each term its reference
id (MDC_...), its numeric code and the units a device may report it in. A numeric code is the
context-free code, partition * 2**16 + term code; vital signs are in partition 2 (SCADA, 131072),
units in partition 4 (DIM, 262144). The LOINC targets are the FHIR vital-signs codes Ownat stores
(`devices.protocol.METRICS`); the codes were written here from those references, term by term.

Observations an IHE PCD-01 sender names by reference id only (OBX-3 "^MDC_PULS_OXIM_SAT_O2^MDC")
are found too. Anything not in these tables is unknown: the observation is dead-lettered with
its code, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

SCADA = 2 << 16  # partition 2: 131072
DIM = 4 << 16  # partition 4: 262144


@dataclass(frozen=True, slots=True)
class MdcTerm:
    code: int  # context-free numeric code
    ref_id: str  # MDC_... reference id
    loinc: str  # Ownat's metric


# Vital signs. Arterial (invasive) pressures are deliberately absent: Ownat's blood pressure metrics
# are the non-invasive ones, and an arterial line stored under them would mislead.
TERMS: tuple[MdcTerm, ...] = (
    MdcTerm(SCADA + 16770, "MDC_ECG_HEART_RATE", "8867-4"),
    MdcTerm(SCADA + 18442, "MDC_PULS_RATE", "8889-8"),
    MdcTerm(SCADA + 18458, "MDC_PULS_OXIM_PULS_RATE", "8889-8"),
    MdcTerm(SCADA + 18474, "MDC_PULS_RATE_NON_INV", "8889-8"),
    MdcTerm(SCADA + 19384, "MDC_PULS_OXIM_SAT_O2", "59408-5"),
    MdcTerm(SCADA + 18949, "MDC_PRESS_BLD_NONINV_SYS", "8480-6"),
    MdcTerm(SCADA + 18950, "MDC_PRESS_BLD_NONINV_DIA", "8462-4"),
    MdcTerm(SCADA + 18951, "MDC_PRESS_BLD_NONINV_MEAN", "8478-0"),
    # The cuff pressures of the personal-health blood pressure monitor (IEEE 11073-10407).
    MdcTerm(SCADA + 19229, "MDC_PRESS_CUFF_SYS", "8480-6"),
    MdcTerm(SCADA + 19230, "MDC_PRESS_CUFF_DIA", "8462-4"),
    MdcTerm(SCADA + 19231, "MDC_PRESS_CUFF_MEAN", "8478-0"),
    MdcTerm(SCADA + 20490, "MDC_RESP_RATE", "9279-1"),
    MdcTerm(SCADA + 20506, "MDC_TTHOR_RESP_RATE", "9279-1"),
    MdcTerm(SCADA + 20522, "MDC_AWAY_RESP_RATE", "9279-1"),
    MdcTerm(SCADA + 19272, "MDC_TEMP", "8310-5"),
    MdcTerm(SCADA + 19292, "MDC_TEMP_BODY", "8310-5"),
    MdcTerm(SCADA + 19320, "MDC_TEMP_TYMP", "8310-5"),
    # Sites of the personal-health thermometer (IEEE 11073-10408).
    MdcTerm(SCADA + 57348, "MDC_TEMP_RECT", "8310-5"),
    MdcTerm(SCADA + 57352, "MDC_TEMP_ORAL", "8310-5"),
    MdcTerm(SCADA + 57356, "MDC_TEMP_EAR", "8310-5"),
    MdcTerm(SCADA + 57380, "MDC_TEMP_AXILLA", "8310-5"),
    MdcTerm(SCADA + 20636, "MDC_AWAY_CO2_ET", "19891-1"),
)
TERMS_BY_CODE = {term.code: term for term in TERMS}
TERMS_BY_REF_ID = {term.ref_id: term for term in TERMS}

# MDC units -> UCUM. Only units that some metric above is reported in; `devices.protocol` converts
# kPa and degrees Fahrenheit to the stored unit.
UNITS: dict[int, tuple[str, str]] = {
    DIM + 544: ("MDC_DIM_PERCENT", "%"),
    DIM + 2720: ("MDC_DIM_BEAT_PER_MIN", "/min"),
    DIM + 2784: ("MDC_DIM_RESP_PER_MIN", "/min"),
    DIM + 3872: ("MDC_DIM_MMHG", "mm[Hg]"),
    DIM + 3843: ("MDC_DIM_KILO_PASCAL", "kPa"),
    DIM + 6048: ("MDC_DIM_DEGC", "Cel"),
    DIM + 4416: ("MDC_DIM_FAHR", "[degF]"),
}
UNITS_BY_REF_ID = {ref_id: ucum for ref_id, ucum in UNITS.values()}
# Some senders put the UCUM unit itself in OBX-6 (coding system UCUM): accepted as it is.
UCUM_UNITS = frozenset(ucum for _ref_id, ucum in UNITS.values())


def find_term(identifier: str, text: str) -> MdcTerm | None:
    """The term of an OBX-3 (identifier, text), by numeric code or else by reference id."""
    if identifier.isdigit():
        return TERMS_BY_CODE.get(int(identifier))
    return TERMS_BY_REF_ID.get(text) or TERMS_BY_REF_ID.get(identifier)


def find_unit(identifier: str, text: str, system: str) -> str | None:
    """The UCUM unit of an OBX-6 (identifier, text, coding system), or None when unknown."""
    if identifier.isdigit() and int(identifier) in UNITS:
        return UNITS[int(identifier)][1]
    by_ref = UNITS_BY_REF_ID.get(text) or UNITS_BY_REF_ID.get(identifier)
    if by_ref is not None:
        return by_ref
    if system.upper() == "UCUM" and identifier in UCUM_UNITS:
        return identifier
    return None
