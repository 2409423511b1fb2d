"""A claim document to export, and a small X12 reader that the export tests check files with."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import UTC, date, datetime

import pyx12.params
import pyx12.x12n_document

from billing.insurance.document import (
    Address,
    BillingProvider,
    ClaimDocument,
    CoverageParty,
    DiagnosisEntry,
    PayerParty,
    Person,
    ServiceLine,
)

PATIENT = Person(
    given_name="Ada",
    family_name="Lovelace-Byron",
    birth_date=date(1985, 12, 10),
    gender="female",
    address=Address(line1="12 St. James's Sq*", city="Springfield", region="IL", postal_code="62701-1234"),
)


def claim_document(**changes: object) -> ClaimDocument:
    """A two-line, two-diagnosis claim of a patient who is her own subscriber."""
    document = ClaimDocument(
        claim_id="0b0c6a3e-8c86-4a3c-9a54-2f1e0c7d1a10",
        claim_number="CL2026000042",
        currency="USD",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        submitted_at=datetime(2026, 11, 21, 14, 5, tzinfo=UTC),
        control_number=42,
        place_of_service="02",
        provider=BillingProvider(
            name="Ownat General Hospital",
            npi="1234567893",
            tax_id="12-3456789",
            address=Address(line1="1 Hospital Way", city="Springfield", region="IL", postal_code="62701-4410"),
            contact_name="Billing Office",
            contact_phone="(217) 555-0100",
            submitter_id="OWNATHOSP",
            taxonomy_code="207Q00000X",
        ),
        payer=PayerParty(name="Acme Health~Plan", payer_id="ACME01"),
        coverage=CoverageParty(
            member_id="XZ123456789",
            group_number="GRP-778",
            plan_name="Acme Gold PPO",
            relationship="self",
            priority=1,
            subscriber=PATIENT,
            coverage_id="cov-1",
        ),
        patient=PATIENT,
        patient_id="5f0e9d66-7c0b-4c3b-8b8e-1d0a2b3c4d5e",
        encounter_id="7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        diagnoses=(
            DiagnosisEntry(code="E11.9", display="Type 2 diabetes mellitus without complications"),
            DiagnosisEntry(code="I10", display="Essential (primary) hypertension"),
        ),
        lines=(
            ServiceLine(
                number=1, code="99213", description="Office visit, 15 min", quantity=1,
                charge_minor=12550, service_date=date(2026, 11, 20), diagnosis_pointers=(1, 2),
            ),
            ServiceLine(
                number=2, code="36415", description="Venipuncture", quantity=2,
                charge_minor=3000, service_date=date(2026, 11, 20), diagnosis_pointers=(1,),
            ),
        ),
    )  # fmt: skip
    return replace(document, **changes)  # type: ignore[arg-type]


def segments(interchange: str) -> list[list[str]]:
    """The interchange split into segments, each a list of elements (the ISA read by its fixed width)."""
    assert interchange.startswith("ISA")
    element, terminator = interchange[3], interchange[105]
    return [segment.strip().split(element) for segment in interchange.split(terminator) if segment.strip()]


def transaction_sets(parsed: list[list[str]]) -> list[list[list[str]]]:
    """The ST..SE runs of the interchange."""
    runs: list[list[list[str]]] = []
    for segment in parsed:
        if segment[0] == "ST":
            runs.append([])
        if runs and (not runs[-1] or runs[-1][-1][0] != "SE"):
            runs[-1].append(segment)
    return runs


def validate_837p(interchange: str) -> tuple[bool, list[str]]:
    """Checks the file against pyx12's 005010X222A1 map; returns its verdict and the 999's error segments.

    pyx12 is the established X12 validator: envelope, loop structure, segment and element syntax,
    code values and counts, answered as a 999 acknowledgement (IK3/IK4 name each fault).
    """
    acknowledgement = io.StringIO()
    # pyx12 logs every finding at ERROR; the 999 carries the same, so the log stays quiet.
    logger = logging.getLogger("pyx12")
    level, logger.level = logger.level, logging.CRITICAL
    try:
        valid = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(interchange), acknowledgement, None
        )
    finally:
        logger.setLevel(level)
    segments = [s.strip() for s in acknowledgement.getvalue().split("~")]
    return valid, [s for s in segments if s.startswith(("IK3", "IK4", "IK5", "AK9"))]


def assert_valid_837p(interchange: str) -> None:
    valid, findings = validate_837p(interchange)
    assert valid and findings[-2:] == ["IK5*A", "AK9*A*1*1*1"], findings
