"""Lab results in words for people: the test's everyday name (the LOINC code and name kept for whoever
wants them), units as people write them (mIU/L, not m[IU]/L), and what the usual range and a flag mean.

Only what patients are shown. What is stored stays in LOINC and UCUM, and the mapping of units
arriving from laboratories (HL7 OBX-6) is `clinical/lab`'s own business elsewhere: this module reads
stored values and never feeds anything back. A test missing here keeps the name its order carries.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel, Field

from clinical.lab.terms import AbnormalFlag

# Everyday names of the built-in catalogue's tests (clinical/lab/catalogue.py), by LOINC code.
PLAIN_NAMES: dict[str, str] = {
    "6690-2": "White blood cells",
    "789-8": "Red blood cells",
    "718-7": "Haemoglobin",
    "4544-3": "Haematocrit",
    "787-2": "Average red cell size (MCV)",
    "785-6": "Haemoglobin per red cell (MCH)",
    "786-4": "Haemoglobin concentration in red cells (MCHC)",
    "788-0": "Red cell size variation (RDW)",
    "777-3": "Platelets",
    "751-8": "Neutrophils",
    "731-0": "Lymphocytes",
    "2951-2": "Sodium",
    "2823-3": "Potassium",
    "2075-0": "Chloride",
    "2028-9": "Bicarbonate",
    "3094-0": "Urea (BUN)",
    "2160-0": "Creatinine",
    "17861-6": "Calcium",
    "19123-9": "Magnesium",
    "2777-1": "Phosphate",
    "2345-7": "Glucose (blood sugar)",
    "4548-4": "HbA1c (average blood sugar over 3 months)",
    "1742-6": "ALT (liver enzyme)",
    "1920-8": "AST (liver enzyme)",
    "6768-6": "Alkaline phosphatase (ALP)",
    "1975-2": "Bilirubin",
    "1751-7": "Albumin",
    "2093-3": "Total cholesterol",
    "2571-8": "Triglycerides",
    "2085-9": "HDL cholesterol (\u201cgood\u201d cholesterol)",
    "3016-3": "Thyroid stimulating hormone (TSH)",
    "1988-5": "C-reactive protein (CRP, inflammation)",
    "89579-7": "Troponin (heart muscle)",
    "33762-6": "NT-proBNP (heart strain)",
    "2524-7": "Lactate",
    "33959-8": "Procalcitonin (infection)",
    "5902-2": "Prothrombin time (clotting)",
    "6301-6": "INR (clotting time)",
    "48065-7": "D-dimer (clotting)",
    "2744-1": "Blood acidity (pH)",
    "2019-8": "Carbon dioxide in blood (pCO\u2082)",
    "2703-7": "Oxygen in blood (pO\u2082)",
}
# UCUM codes whose usual writing is not their code with the brackets and braces taken out.
UNIT_WORDS: dict[str, str] = {
    "10*3/uL": "\u00d710\u00b3/\u00b5L",
    "10*6/uL": "\u00d710\u2076/\u00b5L",
    "10*9/L": "\u00d710\u2079/L",
    "10*12/L": "\u00d710\u00b9\u00b2/L",
    "Cel": "\u00b0C",
    "[degF]": "\u00b0F",
    "[pH]": "",
    "{INR}": "",
    "ug/mL{FEU}": "\u00b5g/mL FEU",
    "mm[Hg]": "mmHg",
}
# HL7 table 0078 flags, in words: (what it is called, what it means for the person reading it).
FLAG_WORDS: dict[str, tuple[str, str]] = {
    AbnormalFlag.LOW: ("Low", "Below the usual range."),
    AbnormalFlag.HIGH: ("High", "Above the usual range."),
    AbnormalFlag.CRITICAL_LOW: ("Very low", "Far below the usual range: the care team is alerted at once."),
    AbnormalFlag.CRITICAL_HIGH: ("Very high", "Far above the usual range: the care team is alerted at once."),
    AbnormalFlag.SIGNIFICANTLY_LOW: ("Low", "Well below the usual range."),
    AbnormalFlag.SIGNIFICANTLY_HIGH: ("High", "Well above the usual range."),
    AbnormalFlag.BELOW_LIMIT: ("Below what can be measured", "Too low for the test to give an exact number."),
    AbnormalFlag.ABOVE_LIMIT: (
        "Above what can be measured",
        "Too high for the test to give an exact number.",
    ),
    AbnormalFlag.NORMAL: ("Normal", "Within the usual range."),
    AbnormalFlag.ABNORMAL: ("Unusual", "Not what is usually found."),
    AbnormalFlag.CRITICALLY_ABNORMAL: (
        "Very unusual",
        "Far from what is usually found: the care team is alerted at once.",
    ),
}
OUT_OF_RANGE_ADVICE = (
    "Your care team will explain what it means for you; a single result is rarely the whole story."
)


class ExplainedResult(BaseModel):
    """A result as a patient reads it."""

    name: str = Field(description="The everyday name of the test")
    code_title: str = Field(description="The LOINC code and name, for whoever wants them (a hover)")
    value: str = Field(description="The value with its unit as people write it, e.g. '5.8 mIU/L'")
    unit: str = Field(description="The unit as people write it ('' when it has none)")
    range: str | None = Field(description="The usual range in words, e.g. '0.4 to 4.0 mIU/L', 'up to 5 mg/L'")
    flag: str | None = Field(description="What the flag says in a word or two, e.g. 'High'")
    flag_meaning: str | None = Field(description="What the flag means, in a sentence or two")


def plain_name(loinc_code: str, recorded_name: str) -> str:
    """The everyday name of a test; the name its order carries when there is none."""
    return PLAIN_NAMES.get(loinc_code, recorded_name)


def unit_as_written(ucum: str | None) -> str:
    """A UCUM unit as people write it: m[IU]/L is mIU/L, umol/L is µmol/L."""
    if not ucum:
        return ""
    if ucum in UNIT_WORDS:
        return UNIT_WORDS[ucum]
    unit = re.sub(r"\{([^}]*)\}", r" \1", ucum).replace("[", "").replace("]", "").strip()
    # The micro prefix: a "u" starting a unit (ug, umol, uL, uIU) is "µ".
    return re.sub(r"(?<![A-Za-z])u(?=(g|mol|L|IU|U)\b)", "\u00b5", unit)


def range_in_words(low: Decimal | None, high: Decimal | None, text: str | None, unit: str) -> str | None:
    """The reference range in words ("0.4 to 4.0 mIU/L", "up to 5 mg/L"), or the laboratory's own text."""
    tail = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low} to {high}{tail}"
    if high is not None:
        return f"up to {high}{tail}"
    if low is not None:
        return f"{low}{tail} or more"
    return text or None


def explain(
    *,
    loinc_code: str,
    recorded_name: str,
    value: str,
    unit: str | None,
    reference_low: Decimal | None,
    reference_high: Decimal | None,
    reference_text: str | None,
    abnormal_flag: str | None,
) -> ExplainedResult:
    """One result in words."""
    written = unit_as_written(unit)
    words = FLAG_WORDS.get(abnormal_flag) if abnormal_flag else None
    meaning = None
    if words is not None:
        normal = abnormal_flag == AbnormalFlag.NORMAL
        meaning = words[1] if normal else f"{words[1]} {OUT_OF_RANGE_ADVICE}"
    return ExplainedResult(
        name=plain_name(loinc_code, recorded_name),
        code_title=f"LOINC {loinc_code}: {recorded_name}",
        value=f"{value} {written}".strip(),
        unit=written,
        range=range_in_words(reference_low, reference_high, reference_text, written),
        flag=words[0] if words else abnormal_flag,
        flag_meaning=meaning,
    )
