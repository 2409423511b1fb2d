"""Search keys for names and the medical record number format."""

from __future__ import annotations

import unicodedata

MRN_PREFIX = "MRN-"
MRN_DIGITS = 9


def name_key(name: str) -> str:
    """A case- and accent-folded form for prefix search: "Müller" and "MULLER" both give "muller"."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _luhn_check_digit(digits: str) -> int:
    # Luhn (ISO/IEC 7812-1) catches every single-digit typo and most transpositions when an MRN is
    # read out or typed in.
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_mrn(number: int) -> str:
    """MRN-<9-digit zero-padded number><Luhn check digit>, e.g. MRN-0000000125 for 12."""
    digits = f"{number:0{MRN_DIGITS}d}"
    return f"{MRN_PREFIX}{digits}{_luhn_check_digit(digits)}"


def is_well_formed_mrn(value: str) -> bool:
    """Whether `value` has the MRN shape and a correct check digit."""
    body = value.strip().upper().removeprefix(MRN_PREFIX)
    if len(body) != MRN_DIGITS + 1 or not body.isdigit():
        return False
    return _luhn_check_digit(body[:-1]) == int(body[-1])
