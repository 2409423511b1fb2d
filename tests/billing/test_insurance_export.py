"""The 837P writer and the FHIR Claim mapping on a fixed claim, without the database.

Each file is validated by pyx12 against its 005010X222A1 map (as a clearinghouse's front end
would, answering a 999), then read back for what a validator cannot know: our values in our places.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.claim import Claim as FhirClaim

from billing.insurance.document import CoverageParty, Person
from billing.insurance.exceptions import ClaimNotExportable
from billing.insurance.fhir_claim import claim_resource
from billing.insurance.x12_837p import amount, write_837p
from tests.billing.insurance_documents import (
    PATIENT,
    assert_valid_837p,
    claim_document,
    segments,
    transaction_sets,
    validate_837p,
)
from tests.fhir.conftest import assert_no_empty_values


def test_pyx12_accepts_the_file_and_catches_a_broken_one() -> None:
    interchange = write_837p(claim_document())
    assert_valid_837p(interchange)
    # The validator is not a rubber stamp: a wrong segment count and a bad amount are rejected.
    wrong_count, findings = validate_837p(interchange.replace("SE*", "SE*9", 1))
    assert not wrong_count and "IK5*R*4" in findings  # 4: number of included segments does not match
    bad_amount, findings = validate_837p(interchange.replace("*155.5*", "*155.5.5*", 1))
    assert not bad_amount and any(finding.startswith("IK3*CLM") for finding in findings)


def test_envelope_is_fixed_width_and_control_numbers_match() -> None:
    interchange = write_837p(claim_document())
    isa = interchange.split("~", 1)[0]
    assert len(isa) == 105  # ISA is fixed width: 106 characters with its terminator
    parsed = segments(interchange)
    isa_el, gs, iea, ge = parsed[0], parsed[1], parsed[-1], parsed[-2]
    assert isa_el[6].strip() == "OWNATHOSP" and isa_el[8].strip() == "ACME01"
    assert isa_el[13] == "000000042" and iea == ["IEA", "1", "000000042"]
    assert isa_el[12] == "00501" and isa_el[15] == "P" and isa_el[16] == ":"
    assert gs[0] == "GS" and gs[1] == "HC" and gs[6] == "42" and gs[8] == "005010X222A1"
    assert ge == ["GE", "1", "42"]
    (transaction,) = transaction_sets(parsed)
    st, se = transaction[0], transaction[-1]
    assert st == ["ST", "837", "0001", "005010X222A1"]
    assert se == ["SE", str(len(transaction)), "0001"]


def test_loops_come_in_837p_order_with_the_claim_content() -> None:
    (transaction,) = transaction_sets(segments(write_837p(claim_document())))
    ids = [segment[0] + ("*" + segment[1] if segment[0] in {"NM1", "HL"} else "") for segment in transaction]
    expected = ["ST", "BHT", "NM1*41", "PER", "NM1*40", "HL*1", "PRV", "NM1*85", "N3", "N4", "REF"]
    expected += ["HL*2", "SBR", "NM1*IL", "N3", "N4", "DMG", "NM1*PR", "CLM", "HI"]
    expected += ["LX", "SV1", "DTP"] * 2 + ["SE"]
    assert ids == expected
    by_id = {segment[0]: segment for segment in transaction}
    # Total charge is the sum of the lines, in dollars; the patient is her own subscriber (18).
    assert by_id["CLM"][:3] == ["CLM", "CL2026000042", "155.5"]
    assert by_id["CLM"][5] == "02:B:1"
    assert by_id["SBR"][:4] == ["SBR", "P", "18", "GRP-778"] and by_id["SBR"][-1] == "CI"
    assert by_id["HI"] == ["HI", "ABK:E119", "ABF:I10"]
    lines = [segment for segment in transaction if segment[0] == "SV1"]
    assert lines[0] == ["SV1", "HC:99213", "125.5", "UN", "1", "", "", "1:2"]
    assert lines[1] == ["SV1", "HC:36415", "30", "UN", "2", "", "", "1"]
    assert by_id["DMG"] == ["DMG", "D8", "19851210", "F"]
    # Delimiters in free text are removed, never passed through to break the file.
    payer_names = [segment[3] for segment in transaction if segment[:2] in (["NM1", "40"], ["NM1", "PR"])]
    assert payer_names == ["ACME HEALTHPLAN", "ACME HEALTHPLAN"]
    address = next(segment for segment in transaction if segment[0] == "N3" and "JAMES" in segment[1])
    assert address == ["N3", "12 ST. JAMES'S SQ"]


def test_a_dependant_gets_the_patient_loop_under_the_subscriber() -> None:
    parent = Person(given_name="Grace", family_name="Hopper", birth_date=None, gender="female", address=None)
    coverage = CoverageParty(
        member_id="M-9", group_number=None, plan_name="Family Plan", relationship="child", priority=2,
        subscriber=parent, coverage_id="cov-2",
    )  # fmt: skip
    interchange = write_837p(claim_document(coverage=coverage))
    assert_valid_837p(interchange)
    (transaction,) = transaction_sets(segments(interchange))
    hierarchy = [segment for segment in transaction if segment[0] == "HL"]
    assert hierarchy == [["HL", "1", "", "20", "1"], ["HL", "2", "1", "22", "1"], ["HL", "3", "2", "23", "0"]]
    by_id = {segment[0]: segment for segment in transaction}
    assert by_id["SBR"][:5] == ["SBR", "S", "", "", "FAMILY PLAN"]
    assert by_id["PAT"] == ["PAT", "19"]
    names = [segment[3] for segment in transaction if segment[0] == "NM1" and segment[1] in {"IL", "QC"}]
    assert names == ["HOPPER", "LOVELACE-BYRON"]
    assert transaction[-1] == ["SE", str(len(transaction)), "0001"]


@pytest.mark.parametrize(
    ("minor", "text"),
    [(0, "0"), (5, "0.05"), (50, "0.5"), (100, "1"), (12550, "125.5"), (1999999, "19999.99")],
)
def test_amounts_are_x12_decimals(minor: int, text: str) -> None:
    assert amount(minor) == text


def test_claims_that_837p_cannot_carry_are_refused() -> None:
    with pytest.raises(ClaimNotExportable, match="US dollars"):
        write_837p(claim_document(currency="EUR"))
    with pytest.raises(ClaimNotExportable, match="service lines"):
        write_837p(claim_document(lines=()))
    line = replace(claim_document().lines[0], diagnosis_pointers=())
    with pytest.raises(ClaimNotExportable, match="point at 1 to 4"):
        write_837p(claim_document(lines=(line,)))


def test_the_fhir_claim_is_a_valid_r4_claim_with_exact_money() -> None:
    resource = claim_resource(claim_document())
    assert_no_empty_values(resource)
    # Validated by the R4B model (raises on any invalid element); read through it untyped.
    claim: Any = FhirClaim.model_validate(resource)
    assert claim.total.value == Decimal("155.50") and claim.total.currency == "USD"
    assert [item.net.value for item in claim.item] == [Decimal("125.50"), Decimal("30.00")]
    assert [item.unitPrice.value for item in claim.item] == [Decimal("125.50"), Decimal("15.00")]
    assert [d.diagnosisCodeableConcept.coding[0].code for d in claim.diagnosis] == ["E11.9", "I10"]
    assert claim.item[0].diagnosisSequence == [1, 2]
    assert claim.insurance[0].coverage.reference == "#coverage"
    coverage = claim.contained[0]
    assert coverage.subscriberId == "XZ123456789" and coverage.payor[0].identifier.value == "ACME01"
    assert claim.patient.reference == f"Patient/{claim_document().patient_id}"


def test_minor_units_follow_the_currency_exponent() -> None:
    resource = claim_resource(claim_document(currency="JPY"))
    assert resource["total"] == {"value": Decimal(15550), "currency": "JPY"}
    assert PATIENT.birth_date is not None


def test_the_billing_provider_needs_a_nine_digit_zip() -> None:
    document = claim_document()
    five_digits = replace(document.provider, address=replace(document.provider.address, postal_code="62701"))
    with pytest.raises(ClaimNotExportable, match="nine digits"):
        write_837p(replace(document, provider=five_digits))
    (transaction,) = transaction_sets(segments(write_837p(document)))
    billing_n4 = transaction[[s[0:2] for s in transaction].index(["NM1", "85"]) + 2]
    assert billing_n4[0] == "N4" and billing_n4[3] == "627014410"


def test_letters_beyond_ascii_are_transliterated_not_dropped() -> None:
    patient = replace(PATIENT, given_name="Zoë", family_name="Øster-Þórsdóttir")
    coverage = replace(claim_document().coverage, subscriber=patient)
    interchange = write_837p(claim_document(patient=patient, coverage=coverage))
    assert_valid_837p(interchange)
    (transaction,) = transaction_sets(segments(interchange))
    subscriber = next(s for s in transaction if s[:2] == ["NM1", "IL"])
    assert subscriber[3:5] == ["OSTER-THORSDOTTIR", "ZOE"]
