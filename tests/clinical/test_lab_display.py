"""Lab results in words for people: every catalogue test has an everyday name, units are written as
people write them, and ranges and flags are explained."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinical.lab.catalogue import TESTS
from clinical.lab.display import PLAIN_NAMES, explain, range_in_words, unit_as_written


def test_every_catalogue_test_has_an_everyday_name_and_a_unit_people_write() -> None:
    assert {test.loinc_code for test in TESTS} <= set(PLAIN_NAMES)
    for test in TESTS:
        written = unit_as_written(test.unit)
        assert not any(mark in written for mark in "[]{}*"), (test.unit, written)


@pytest.mark.parametrize(
    ("ucum", "written"),
    [
        ("m[IU]/L", "mIU/L"),
        ("u[IU]/mL", "µIU/mL"),
        ("umol/L", "µmol/L"),
        ("ug/mL{FEU}", "µg/mL FEU"),
        ("10*3/uL", "\u00d710\u00b3/µL"),
        ("mm[Hg]", "mmHg"),
        ("Cel", "°C"),
        ("{INR}", ""),
        ("mg/dL", "mg/dL"),
        (None, ""),
    ],
)
def test_units_are_written_as_people_write_them(ucum: str | None, written: str) -> None:
    assert unit_as_written(ucum) == written


def test_ranges_are_said_in_words() -> None:
    assert range_in_words(Decimal("0.4"), Decimal("4.0"), None, "mIU/L") == "0.4 to 4.0 mIU/L"
    assert range_in_words(None, Decimal("5"), "<=5", "mg/L") == "up to 5 mg/L"
    assert range_in_words(Decimal("40"), None, None, "mg/dL") == "40 mg/dL or more"
    assert range_in_words(None, None, "Negative", "") == "Negative"
    assert range_in_words(None, None, None, "") is None


def test_a_result_is_explained_with_its_code_kept_for_the_curious() -> None:
    words = explain(
        loinc_code="3016-3",
        recorded_name="Thyrotropin [Units/volume] in Serum or Plasma",
        value="5.8",
        unit="m[IU]/L",
        reference_low=Decimal("0.4"),
        reference_high=Decimal("4.0"),
        reference_text="0.4-4.0",
        abnormal_flag="H",
    )
    assert (words.name, words.value, words.range, words.flag) == (
        "Thyroid stimulating hormone (TSH)",
        "5.8 mIU/L",
        "0.4 to 4.0 mIU/L",
        "High",
    )
    assert words.code_title == "LOINC 3016-3: Thyrotropin [Units/volume] in Serum or Plasma"
    assert words.flag_meaning is not None and words.flag_meaning.startswith("Above the usual range.")
    normal = explain(
        loinc_code="99999-9",
        recorded_name="A test from another laboratory",
        value="Negative",
        unit=None,
        reference_low=None,
        reference_high=None,
        reference_text=None,
        abnormal_flag="N",
    )
    assert (normal.name, normal.value, normal.flag, normal.flag_meaning) == (
        "A test from another laboratory",
        "Negative",
        "Normal",
        "Within the usual range.",
    )
