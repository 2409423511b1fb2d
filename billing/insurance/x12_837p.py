"""The X12 837P (005010X222A1) professional claim file of one claim, one interchange per claim.

Written here: the X12 libraries (pyx12, LinuxForHealth x12) parse and validate rather than build
claims. The tests validate each file with pyx12 against its 837P map and check envelope, loop
order, counts and control numbers. Delimiters are fixed: `*` between elements, `:` inside composites, `^` repetitions and
`~` after each segment; free text is upper-cased and stripped of every delimiter.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from billing.insurance.document import Address, ClaimDocument, Person
from billing.insurance.exceptions import ClaimNotExportable

VERSION = "005010X222A1"
MAX_DIAGNOSES = 12  # HI holds twelve codes in 837P
MAX_LINES = 50  # service lines per claim in 837P
MAX_POINTERS = 4  # SV107 points at up to four diagnoses
ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
_UNSAFE = re.compile(r"[^A-Z0-9 .,&'()/#-]")
_GENDER = {"male": "M", "female": "F"}
# Patient relationship to the subscriber (PAT01 / SBR02 individual relationship codes).
_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8"}
_PRIORITY = {1: "P", 2: "S", 3: "T"}


# Letters that decomposition does not reduce to A-Z (X12's basic character set), as clearinghouses spell them.
_LETTERS = str.maketrans(
    {"Æ": "AE", "Ø": "O", "Œ": "OE", "Ð": "D", "Đ": "D", "Þ": "TH", "Ł": "L", "Ħ": "H", "Ŧ": "T"}
)


def transliterate(value: str) -> str:
    """Upper-case ASCII for a name or address: accents dropped (ZOË -> ZOE), ligatures spelt out."""
    decomposed = unicodedata.normalize("NFKD", value.upper().translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).translate(_LETTERS)


def text(value: str, max_length: int = 60) -> str:
    """Free text made safe for X12: upper-case ASCII, no delimiters, trimmed to `max_length`."""
    return _UNSAFE.sub("", transliterate(value)).strip()[:max_length]


def amount(minor: int) -> str:
    """Dollars from cents in X12 decimal form: no trailing zeros, no leading zeros."""
    whole, cents = divmod(minor, 100)
    return f"{whole}.{cents:02d}".rstrip("0").rstrip(".") if cents else str(whole)


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _segment(*elements: str) -> str:
    return ELEMENT.join(elements).rstrip(ELEMENT) + TERMINATOR


def _address(address: Address | None) -> list[str]:
    if address is None:
        return []
    lines = [_segment("N3", text(address.line1, 55), text(address.line2 or "", 55))]
    postal = re.sub(r"[^0-9A-Z]", "", address.postal_code.upper())
    lines.append(_segment("N4", text(address.city, 30), text(address.region, 2), postal))
    return lines


def _demographics(person: Person) -> list[str]:
    if person.birth_date is None:
        return []
    return [_segment("DMG", "D8", _d8(person.birth_date), _GENDER.get(person.gender, "U"))]


def _check(claim: ClaimDocument) -> None:
    if claim.currency != "USD":
        raise ClaimNotExportable(f"X12 837P claims are in US dollars; this claim is in {claim.currency}.")
    if not claim.lines or len(claim.lines) > MAX_LINES:
        raise ClaimNotExportable(f"An 837P claim carries 1 to {MAX_LINES} service lines.")
    if not claim.diagnoses or len(claim.diagnoses) > MAX_DIAGNOSES:
        raise ClaimNotExportable(f"An 837P claim carries 1 to {MAX_DIAGNOSES} diagnoses.")
    if len(claim.claim_number) > 20:
        raise ClaimNotExportable("The claim number (CLM01) must be at most 20 characters.")
    zip_code = re.sub(r"\D", "", claim.provider.address.postal_code)
    if len(zip_code) != 9:
        # 005010X222A1, loop 2010AA N403: the billing provider's ZIP code is the nine-digit ZIP+4.
        raise ClaimNotExportable(
            "The billing provider's ZIP code needs all nine digits (ZIP+4) in an 837P; set "
            f"OWNAT_BILLING_PROVIDER_POSTAL_CODE to e.g. 62701-1234, not '{claim.provider.address.postal_code}'."
        )


def _envelope_head(claim: ClaimDocument, at: datetime, usage: str) -> list[str]:
    sender = text(claim.provider.submitter_id, 15).ljust(15)
    receiver = text(claim.payer.payer_id, 15).ljust(15)
    control = f"{claim.control_number:09d}"
    isa = ELEMENT.join(
        [
            *("ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender, "ZZ", receiver),
            *(
                at.strftime("%y%m%d"),
                at.strftime("%H%M"),
                REPETITION,
                "00501",
                control,
                "0",
                usage,
                COMPONENT,
            ),
        ]
    )
    gs = _segment(
        "GS", "HC", sender.strip(), receiver.strip(), _d8(at), at.strftime("%H%M"),
        str(claim.control_number), "X", VERSION,
    )  # fmt: skip
    return [isa + TERMINATOR, gs]


def _submitter_and_provider(claim: ClaimDocument, at: datetime) -> list[str]:
    provider, payer = claim.provider, claim.payer
    segments = [
        _segment("BHT", "0019", "00", text(claim.claim_number, 30), _d8(at), at.strftime("%H%M"), "CH"),
        _segment(
            "NM1", "41", "2", text(provider.name), "", "", "", "", "46", text(provider.submitter_id, 80)
        ),
        _segment("PER", "IC", text(provider.contact_name), "TE", re.sub(r"\D", "", provider.contact_phone)),
        _segment("NM1", "40", "2", text(payer.name), "", "", "", "", "46", text(payer.payer_id, 80)),
        _segment("HL", "1", "", "20", "1"),
    ]
    if provider.taxonomy_code:
        segments.append(_segment("PRV", "BI", "PXC", text(provider.taxonomy_code, 50)))
    segments.append(_segment("NM1", "85", "2", text(provider.name), "", "", "", "", "XX", provider.npi))
    segments += _address(provider.address)
    segments.append(_segment("REF", "EI", re.sub(r"\D", "", provider.tax_id)))
    return segments


def _subscriber_and_patient(claim: ClaimDocument) -> list[str]:
    coverage, subscriber = claim.coverage, claim.coverage.subscriber
    is_self = coverage.relationship == "self"
    segments = [
        _segment("HL", "2", "1", "22", "0" if is_self else "1"),
        _segment(
            "SBR",
            _PRIORITY[coverage.priority],
            "18" if is_self else "",
            text(coverage.group_number or "", 50),
            "" if coverage.group_number else text(coverage.plan_name),
            "",
            "",
            "",
            "",
            "CI",
        ),
        _segment(
            "NM1",
            "IL",
            "1",
            text(subscriber.family_name),
            text(subscriber.given_name, 35),
            "",
            "",
            "",
            "MI",
            text(coverage.member_id, 80),
        ),
    ]
    if is_self:
        segments += _address(subscriber.address) + _demographics(subscriber)
    segments.append(
        _segment("NM1", "PR", "2", text(claim.payer.name), "", "", "", "", "PI", claim.payer.payer_id)
    )
    if not is_self:
        patient = claim.patient
        segments += [
            _segment("HL", "3", "2", "23", "0"),
            _segment("PAT", _RELATIONSHIP[coverage.relationship]),
            _segment("NM1", "QC", "1", text(patient.family_name), text(patient.given_name, 35)),
        ]
        segments += _address(patient.address) + _demographics(patient)
    return segments


def _claim_and_lines(claim: ClaimDocument) -> list[str]:
    diagnoses = [
        f"{'ABK' if index == 0 else 'ABF'}{COMPONENT}{entry.code.replace('.', '').upper()}"
        for index, entry in enumerate(claim.diagnoses)
    ]
    facility = COMPONENT.join([claim.place_of_service, "B", "1"])
    segments = [
        _segment(
            "CLM",
            text(claim.claim_number, 20),
            amount(claim.total_minor),
            "",
            "",
            facility,
            "Y",
            "A",
            "Y",
            "Y",
        ),
        _segment("HI", *diagnoses),
    ]
    for line in claim.lines:
        if not 1 <= len(line.diagnosis_pointers) <= MAX_POINTERS:
            raise ClaimNotExportable(
                f"Service line {line.number} must point at 1 to {MAX_POINTERS} diagnoses."
            )
        pointers = COMPONENT.join(str(pointer) for pointer in line.diagnosis_pointers)
        segments += [
            _segment("LX", str(line.number)),
            _segment(
                "SV1",
                f"HC{COMPONENT}{text(line.code, 48)}",
                amount(line.charge_minor),
                "UN",
                str(line.quantity),
                "",
                "",
                pointers,
            ),
            _segment("DTP", "472", "D8", _d8(line.service_date)),
        ]
    return segments


def write_837p(claim: ClaimDocument, *, usage: str = "P") -> str:
    """The claim as an 837P interchange; `usage` is ISA15, P for production or T for test files."""
    _check(claim)
    at = claim.submitted_at
    body = _submitter_and_provider(claim, at) + _subscriber_and_patient(claim) + _claim_and_lines(claim)
    transaction = [_segment("ST", "837", "0001", VERSION), *body]
    transaction.append(_segment("SE", str(len(transaction) + 1), "0001"))
    trailer = [
        _segment("GE", "1", str(claim.control_number)),
        _segment("IEA", "1", f"{claim.control_number:09d}"),
    ]
    return "\n".join(_envelope_head(claim, at, usage) + transaction + trailer) + "\n"
