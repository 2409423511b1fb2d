"""Does a medication match one of the patient's active allergies? The prescriber must say they saw it.

Matching is by name, as the allergy list and prescriptions are mostly free text here: the same
substance (a word of the allergy starting a word of the medication, or equal codes), or a drug of a
class the allergy names or a cross-reactive class one of its members belongs to (a penicillin
allergy warns of amoxicillin; an ibuprofen allergy warns of naproxen). The class table is small and
covers the common cross-reactive groups of the BNF and the WHO ATC classification; a drug knowledge
base would replace it. It errs towards warning: a warning is answered with one click, a missed
anaphylaxis is not.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import Allergy, AllergyStatus


@dataclass(frozen=True, slots=True)
class DrugClass:
    name: str
    # Words an allergy uses for the class itself ("penicillin" in "Penicillin allergy").
    keywords: tuple[str, ...]
    # Word stems of its members, as they start a word of a medication's name. Keywords are not matched
    # against medications: "sulfa" would find ferrous sulfate.
    members: tuple[str, ...]
    # Whether an allergy to one member warns of the others (true of the classes below except opioids,
    # where an intolerance of codeine says little about morphine).
    cross_reactive: bool = True


DRUG_CLASSES: tuple[DrugClass, ...] = (
    DrugClass(
        "penicillins",
        ("penicillin",),
        ("penicillin", "amoxicillin", "ampicillin", "flucloxacillin", "piperacillin", "benzylpenicillin",
         "phenoxymethylpenicillin", "co-amoxiclav", "coamoxiclav", "temocillin", "pivmecillinam"),
    ),
    DrugClass(
        "cephalosporins",
        ("cephalosporin",),
        ("cefalexin", "cephalexin", "cefuroxime", "ceftriaxone", "cefotaxime", "cefazolin", "ceftazidime",
         "cefixime", "cefaclor", "cefradine"),
    ),
    DrugClass(
        "sulfonamide antibiotics",
        ("sulfonamide", "sulphonamide", "sulfa", "sulpha"),
        ("sulfamethoxazole", "sulphamethoxazole", "co-trimoxazole", "cotrimoxazole", "sulfadiazine",
         "sulfasalazine"),
    ),
    DrugClass(
        "NSAIDs",
        ("nsaid", "nsaids"),
        ("ibuprofen", "naproxen", "diclofenac", "aspirin", "acetylsalicylic", "celecoxib", "etoricoxib",
         "ketorolac", "indometacin", "indomethacin", "mefenamic", "meloxicam", "ketoprofen"),
    ),
    DrugClass("macrolides", ("macrolide",), ("erythromycin", "clarithromycin", "azithromycin")),
    DrugClass(
        "tetracyclines",
        ("tetracycline",),
        ("doxycycline", "tetracycline", "minocycline", "lymecycline", "oxytetracycline"),
    ),
    DrugClass(
        "fluoroquinolones",
        ("quinolone", "fluoroquinolone"),
        ("ciprofloxacin", "levofloxacin", "moxifloxacin", "ofloxacin"),
    ),
    DrugClass(
        "opioids",
        ("opioid", "opiate"),
        ("codeine", "morphine", "dihydrocodeine", "tramadol", "oxycodone", "fentanyl", "diamorphine",
         "buprenorphine", "co-codamol"),
        cross_reactive=False,
    ),
)  # fmt: skip

# Words of an allergy's text that name no substance.
_NOT_A_SUBSTANCE = frozenset(
    {"allergy", "allergic", "antibiotic", "antibiotics", "intolerance", "drug", "drugs", "tablet", "tablets"}
)
_SHORTEST_SUBSTANCE_WORD = 4
# Words that name a class, not a substance: matched through the class table only.
_CLASS_WORDS = frozenset(keyword for drug_class in DRUG_CLASSES for keyword in drug_class.keywords)


@dataclass(frozen=True, slots=True)
class AllergyMatch:
    allergy: Allergy
    reason: str  # "same substance", or the class both belong to ("penicillins")


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", folded)


def _starts_any(words: Iterable[str], stems: Iterable[str]) -> bool:
    stems = tuple(stems)
    return any(word.startswith(stem) for word in words for stem in stems)


def _why(allergy: Allergy, medication_words: list[str], medication_code: str | None) -> str | None:
    if (
        medication_code
        and allergy.substance_code
        and medication_code.strip() == allergy.substance_code.strip()
    ):
        return "same substance"
    allergy_words = [
        w
        for w in _words(allergy.substance_text)
        if len(w) >= _SHORTEST_SUBSTANCE_WORD and w not in _NOT_A_SUBSTANCE
    ]
    if _starts_any(medication_words, (w for w in allergy_words if w not in _CLASS_WORDS)):
        return "same substance"
    for drug_class in DRUG_CLASSES:
        if not _starts_any(medication_words, drug_class.members):
            continue
        names_class = _starts_any(allergy_words, drug_class.keywords)
        names_member = drug_class.cross_reactive and _starts_any(allergy_words, drug_class.members)
        if names_class or names_member:
            return drug_class.name
    return None


def match_allergies(
    allergies: Iterable[Allergy], medication_name: str, medication_code: str | None
) -> list[AllergyMatch]:
    """The active allergies that a medication of this name (and code) may provoke."""
    medication_words = _words(medication_name)
    matches = []
    for allergy in allergies:
        if allergy.status is not AllergyStatus.ACTIVE:
            continue
        reason = _why(allergy, medication_words, medication_code)
        if reason is not None:
            matches.append(AllergyMatch(allergy=allergy, reason=reason))
    return matches


async def matching_allergies(
    session: AsyncSession, patient_id: uuid.UUID, medication_name: str, medication_code: str | None
) -> list[AllergyMatch]:
    """The patient's active allergies that the medication may provoke."""
    allergies = await session.scalars(
        select(Allergy).where(Allergy.patient_id == patient_id, Allergy.status == AllergyStatus.ACTIVE)
    )
    return match_allergies(allergies, medication_name, medication_code)
