"""The orderable tests: a curated built-in list of common LOINC-coded tests with adult reference ranges.

The list is a module constant, not a table. It is reviewed and versioned with the code that
interprets it (flags, ranges by sex and age), needs no seeding on either dialect, and cannot drift
between instances. Orders copy the code, name, specimen and unit of each test when placed, so a
later change here never rewrites an existing order. Ranges are typical adult values (sources: the
MSD Manual's normal laboratory values and the Tietz reference intervals); a laboratory's own
range, reported in OBX-7, always takes precedence over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clinical.lab.terms import AbnormalFlag
from clinical.patients import AdministrativeGender

ADULT_AGE_YEARS = 18
BLOOD = "Whole blood (EDTA)"
SERUM = "Serum or plasma"
ARTERIAL = "Arterial blood"
CITRATE = "Platelet-poor plasma (citrate)"


@dataclass(frozen=True, slots=True)
class RangeRule:
    """A reference interval for adults of one sex (or either)."""

    low: Decimal | None
    high: Decimal | None
    sex: AdministrativeGender | None = None

    def applies_to(self, sex: AdministrativeGender | None) -> bool:
        return self.sex is None or self.sex == sex


@dataclass(frozen=True, slots=True)
class CatalogueTest:
    loinc_code: str
    display: str
    specimen: str
    unit: str  # UCUM
    ranges: tuple[RangeRule, ...]
    critical_low: Decimal | None = None
    critical_high: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    """The reference interval that applies to one patient."""

    low: Decimal | None
    high: Decimal | None
    text: str


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _test(
    code: str,
    display: str,
    specimen: str,
    unit: str,
    low: str | None,
    high: str | None,
    *,
    male: tuple[str | None, str | None] | None = None,
    female: tuple[str | None, str | None] | None = None,
    critical: tuple[str | None, str | None] = (None, None),
) -> CatalogueTest:
    ranges: tuple[RangeRule, ...]
    if male and female:
        ranges = (
            RangeRule(_d(male[0]), _d(male[1]), AdministrativeGender.MALE),
            RangeRule(_d(female[0]), _d(female[1]), AdministrativeGender.FEMALE),
        )
    else:
        ranges = (RangeRule(_d(low), _d(high)),)
    return CatalogueTest(code, display, specimen, unit, ranges, _d(critical[0]), _d(critical[1]))


TESTS: tuple[CatalogueTest, ...] = (
    # Complete blood count
    _test(
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        BLOOD,
        "10*3/uL",
        "4.0",
        "11.0",
        critical=("2.0", "30.0"),
    ),
    _test(
        "789-8",
        "Erythrocytes [#/volume] in Blood by Automated count",
        BLOOD,
        "10*6/uL",
        None,
        None,
        male=("4.30", "5.70"),
        female=("3.80", "5.10"),
    ),
    _test(
        "718-7",
        "Hemoglobin [Mass/volume] in Blood",
        BLOOD,
        "g/dL",
        None,
        None,
        male=("13.5", "17.5"),
        female=("12.0", "15.5"),
        critical=("7.0", "20.0"),
    ),
    _test(
        "4544-3",
        "Hematocrit [Volume Fraction] of Blood by Automated count",
        BLOOD,
        "%",
        None,
        None,
        male=("41", "53"),
        female=("36", "46"),
    ),
    _test("787-2", "MCV [Entitic volume] by Automated count", BLOOD, "fL", "80", "100"),
    _test("785-6", "MCH [Entitic mass] by Automated count", BLOOD, "pg", "27", "33"),
    _test("786-4", "MCHC [Mass/volume] by Automated count", BLOOD, "g/dL", "32", "36"),
    _test("788-0", "Erythrocyte distribution width [Ratio] by Automated count", BLOOD, "%", "11.5", "14.5"),
    _test(
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        BLOOD,
        "10*3/uL",
        "150",
        "400",
        critical=("20", "1000"),
    ),
    _test(
        "751-8",
        "Neutrophils [#/volume] in Blood by Automated count",
        BLOOD,
        "10*3/uL",
        "1.8",
        "7.7",
        critical=("0.5", None),
    ),
    _test("731-0", "Lymphocytes [#/volume] in Blood by Automated count", BLOOD, "10*3/uL", "1.0", "4.8"),
    # Electrolytes and renal function
    _test(
        "2951-2",
        "Sodium [Moles/volume] in Serum or Plasma",
        SERUM,
        "mmol/L",
        "135",
        "145",
        critical=("120", "160"),
    ),
    _test(
        "2823-3",
        "Potassium [Moles/volume] in Serum or Plasma",
        SERUM,
        "mmol/L",
        "3.5",
        "5.1",
        critical=("2.8", "6.2"),
    ),
    _test("2075-0", "Chloride [Moles/volume] in Serum or Plasma", SERUM, "mmol/L", "98", "107"),
    _test(
        "2028-9",
        "Carbon dioxide, total [Moles/volume] in Serum or Plasma",
        SERUM,
        "mmol/L",
        "22",
        "29",
        critical=("10", "40"),
    ),
    _test("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", "7", "20"),
    _test(
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        SERUM,
        "mg/dL",
        None,
        None,
        male=("0.74", "1.35"),
        female=("0.59", "1.04"),
    ),
    _test(
        "17861-6",
        "Calcium [Mass/volume] in Serum or Plasma",
        SERUM,
        "mg/dL",
        "8.6",
        "10.3",
        critical=("6.0", "13.0"),
    ),
    _test("19123-9", "Magnesium [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", "1.7", "2.2"),
    _test("2777-1", "Phosphate [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", "2.5", "4.5"),
    # Glucose and diabetes
    _test(
        "2345-7",
        "Glucose [Mass/volume] in Serum or Plasma",
        SERUM,
        "mg/dL",
        "70",
        "99",
        critical=("40", "500"),
    ),
    _test("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", BLOOD, "%", None, "5.6"),
    # Liver
    _test(
        "1742-6",
        "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        SERUM,
        "U/L",
        "7",
        "55",
    ),
    _test(
        "1920-8",
        "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        SERUM,
        "U/L",
        "8",
        "48",
    ),
    _test(
        "6768-6",
        "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
        SERUM,
        "U/L",
        "40",
        "129",
    ),
    _test("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", "0.1", "1.2"),
    _test("1751-7", "Albumin [Mass/volume] in Serum or Plasma", SERUM, "g/dL", "3.5", "5.0"),
    # Lipids and thyroid
    _test("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", None, "199"),
    _test("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", None, "149"),
    _test("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", SERUM, "mg/dL", "40", None),
    _test("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", SERUM, "m[IU]/L", "0.4", "4.0"),
    # Inflammation, cardiac, sepsis
    _test("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", SERUM, "mg/L", None, "5"),
    # 99th percentile upper reference limits are assay-specific; these are one common assay's.
    _test(
        "89579-7",
        "Troponin I.cardiac [Mass/volume] in Serum or Plasma by High sensitivity method",
        SERUM,
        "ng/L",
        None,
        None,
        male=(None, "20"),
        female=(None, "15"),
    ),
    _test(
        "33762-6",
        "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma",
        SERUM,
        "pg/mL",
        None,
        "125",
    ),
    _test(
        "2524-7",
        "Lactate [Moles/volume] in Serum or Plasma",
        SERUM,
        "mmol/L",
        "0.5",
        "2.2",
        critical=(None, "4.0"),
    ),
    _test("33959-8", "Procalcitonin [Mass/volume] in Serum or Plasma", SERUM, "ng/mL", None, "0.49"),
    # Coagulation
    _test("5902-2", "Prothrombin time (PT)", CITRATE, "s", "11.0", "13.5"),
    _test(
        "6301-6",
        "INR in Platelet poor plasma by Coagulation assay",
        CITRATE,
        "{INR}",
        "0.8",
        "1.1",
        critical=(None, "5.0"),
    ),
    _test(
        "48065-7",
        "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma",
        CITRATE,
        "ug/mL{FEU}",
        None,
        "0.49",
    ),
    # Arterial blood gas
    _test("2744-1", "pH of Arterial blood", ARTERIAL, "[pH]", "7.35", "7.45", critical=("7.20", "7.60")),
    _test(
        "2019-8",
        "Carbon dioxide [Partial pressure] in Arterial blood",
        ARTERIAL,
        "mm[Hg]",
        "35",
        "45",
        critical=("20", "70"),
    ),
    _test(
        "2703-7",
        "Oxygen [Partial pressure] in Arterial blood",
        ARTERIAL,
        "mm[Hg]",
        "80",
        "100",
        critical=("40", None),
    ),
)


def find(loinc_code: str) -> CatalogueTest | None:
    """The catalogue's test with this LOINC code, if it has one."""
    return next((test for test in TESTS if test.loinc_code == loinc_code), None)


def interval_for(
    test: CatalogueTest, *, sex: AdministrativeGender | None, age_years: int | None
) -> Interval | None:
    """The adult interval for this patient; None for children or an unknown age (no paediatric ranges here)."""
    if age_years is None or age_years < ADULT_AGE_YEARS:
        return None
    rule = next((r for r in test.ranges if r.applies_to(sex)), None)
    if rule is None:  # sex-specific ranges and the sex is not recorded as male or female
        return None
    return Interval(rule.low, rule.high, _range_text(rule.low, rule.high))


def _range_text(low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and high is not None:
        return f"{low}-{high}"
    return f"<={high}" if high is not None else f">={low}"


def flag_for(
    value: Decimal, *, low: Decimal | None, high: Decimal | None, test: CatalogueTest | None = None
) -> AbnormalFlag | None:
    """HL7 table 0078 interpretation of a number: LL/HH beyond critical limits, L/H outside the range, N."""
    if test is not None:
        if test.critical_low is not None and value < test.critical_low:
            return AbnormalFlag.CRITICAL_LOW
        if test.critical_high is not None and value > test.critical_high:
            return AbnormalFlag.CRITICAL_HIGH
    if low is None and high is None:
        return None
    if low is not None and value < low:
        return AbnormalFlag.LOW
    if high is not None and value > high:
        return AbnormalFlag.HIGH
    return AbnormalFlag.NORMAL
