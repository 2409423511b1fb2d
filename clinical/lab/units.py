"""Units of measure: UCUM codes we can vouch for, and the unit text of everything else.

A result's unit is published as UCUM (`system` http://unitsofmeasure.org) only when we know it is
UCUM: the sender named a coding system we can map (HL7 table 0396: `UCUM`, `ISO+`/`ANS+` whose
codes coincide with UCUM, `MDC` from ISO/IEEE 11073-10101) and the code passes the UCUM grammar
below. Otherwise the unit is kept as the sender wrote it, as text, without claiming a code system.

The check is the UCUM grammar (ucum.org, "The Unified Code for Units of Measure", sections 2-4:
prefixes, atoms, exponents, `.` and `/`, factors, `{annotations}`, parentheses) over a table of the
atoms a clinical system meets, case-sensitive as UCUM's c/s form is. A unit outside the table is
refused rather than guessed at, so what is published as UCUM is UCUM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UCUM_SYSTEM = "http://unitsofmeasure.org"
# Coding-system names of HL7 table 0396 whose codes are UCUM codes (when they parse as UCUM).
UCUM_NAMED = frozenset({"UCUM", "ISO+", "ANS+"})
MDC_NAMED = frozenset({"MDC", "ISO11073-10101"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PREFIXES = _words("Y Z E P T G M k h da d c m u n p f a z y")
# Atoms that take prefixes (UCUM's "metric" units).
METRIC_ATOMS = _words(
    "g L l m s mol eq U [IU] [iU] Pa Hz K Cel kat osm bar J W N V A Ohm S F Wb T Gy Sv Bq Ci cd lm lx "
    "m[Hg] m[H2O] [CFU] [PFU] [FFU] t"
)
# Atoms that do not.
PLAIN_ATOMS = _words(
    "min h d wk mo a % [degF] [pH] [ppm] [ppb] [ppth] [pptr] [HPF] [LPF] [arb'U] [drp] [in_i] [ft_i] "
    "[lb_av] [oz_av] [mi_i] [yd_i] [gal_us] [qt_us] [pt_us] [foz_us] [in_i'Hg] [mclg'U] [beth'U] "
    "[todd'U] [S] [AU] [BAU] [GPL'U] [MPL'U] [APL'U] [tb'U] [ELU] [EU] [knk'U] [kp_C] deg "
    "[mesh_i] [Ch] [diop] [hp'_X] [hp'_C] [lne]"
)
_EXPONENT = re.compile(r"^(.*?)([+-]?\d+)$")
_ANNOTATION = re.compile(r"\{[^{}]*\}")
_FACTOR = re.compile(r"^\d+$")
_POWER_OF_TEN = re.compile(r"^10[*^][+-]?\d+$")

# ISO/IEEE 11073-10101 unit codes (partition 4) and their reference ids, with the UCUM unit each is.
MDC_TO_UCUM = {
    "262656": "1",
    "MDC_DIM_DIMLESS": "1",
    "262688": "%",
    "MDC_DIM_PERCENT": "%",
    "264864": "/min",
    "MDC_DIM_BEAT_PER_MIN": "/min",
    "264928": "/min",
    "MDC_DIM_RESP_PER_MIN": "/min",
    "266016": "mm[Hg]",
    "MDC_DIM_MMHG": "mm[Hg]",
    "268192": "Cel",
    "MDC_DIM_DEGC": "Cel",
    "266560": "[degF]",
    "MDC_DIM_FAHR": "[degF]",
    "263875": "kg",
    "MDC_DIM_KILO_G": "kg",
    "263441": "cm",
    "MDC_DIM_CENTI_M": "cm",
    "263762": "mL",
    "MDC_DIM_MILLI_L": "mL",
    "264320": "s",
    "MDC_DIM_SEC": "s",
    "264338": "ms",
    "MDC_DIM_MILLI_SEC": "ms",
    "266866": "mmol/L",
    "MDC_DIM_MILLI_MOLE_PER_L": "mmol/L",
    "264306": "mg/dL",
    "MDC_DIM_MILLI_G_PER_DL": "mg/dL",
    "265216": "L/min",
    "MDC_DIM_X_L_PER_MIN": "L/min",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit as shown (`text`) and, when it is one, its UCUM code."""

    text: str
    ucum: str | None = None


def is_ucum(code: str) -> bool:
    """Whether `code` is a well-formed UCUM (case-sensitive) unit made of atoms we know."""
    text = code.strip()
    if not text or text != code or " " in text or len(text) > 64:
        return False
    try:
        return _term(text.removeprefix("/") if text.startswith("/") else text)
    except RecursionError:  # pragma: no cover - bounded by the length check
        return False


def _term(text: str) -> bool:
    parts = _split(text)
    return parts is not None and all(_component(part) for part in parts)


def _split(text: str) -> list[str] | None:
    """Components between `.` and `/` at the outer level (brackets and braces kept whole)."""
    parts, current, depth = [], "", 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:
                return None
        if depth == 0 and char in "./" and current:
            parts.append(current)
            current = ""
            continue
        current += char
    if depth != 0 or not current:
        return None
    return [*parts, current]


def _component(text: str) -> bool:
    bare = _ANNOTATION.sub("", text)
    if bare == "":
        return text != ""  # an annotation alone ({cells}) stands for 1
    if bare.startswith("(") and bare.endswith(")"):
        return _term(bare[1:-1])
    if _FACTOR.match(bare) or _POWER_OF_TEN.match(bare):
        return True
    exponent = _EXPONENT.match(bare)
    atom = exponent.group(1) if exponent and exponent.group(1) else bare
    return _unit_atom(atom)


def _unit_atom(text: str) -> bool:
    if text in METRIC_ATOMS or text in PLAIN_ATOMS:
        return True
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if text.startswith(prefix) and text[len(prefix) :] in METRIC_ATOMS:
            return True
    return False


def unit_from_coding(
    identifier: str,
    text: str,
    system: str,
    alt_identifier: str = "",
    alt_text: str = "",
    alt_system: str = "",
) -> Unit | None:
    """An HL7 v2 CWE/CE unit (OBX-6): UCUM when a named system maps to it, else the text."""
    shown = text or identifier or alt_text or alt_identifier
    if not shown:
        return None
    for code, name in ((identifier, system), (alt_identifier, alt_system)):
        ucum = _as_ucum(code, name.strip().upper())
        if ucum is not None:
            return Unit(text=text if text and name.strip().upper() not in MDC_NAMED else ucum, ucum=ucum)
    return Unit(text=shown)


def _as_ucum(code: str, system: str) -> str | None:
    if not code:
        return None
    if system in UCUM_NAMED and is_ucum(code):
        return code
    if system in MDC_NAMED:
        return MDC_TO_UCUM.get(code)
    return None


def unit_from_text(text: str | None) -> Unit | None:
    """A unit typed by a person or taken from the catalogue: UCUM when it is valid UCUM."""
    if not text:
        return None
    return Unit(text=text, ucum=text if is_ucum(text) else None)
