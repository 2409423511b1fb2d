"""Practitioner: the organisation's clinicians and nurses, with qualifications and specialties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, true

from clinical.fhir.constants import PRACTITIONER_SPECIALTY
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, drop_empty, meta
from clinical.fhir.search.clauses import parse_uuid, string_clause, wanted_codes
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType
from clinical.organisation import Practitioner

PRACTITIONER_ID_SYSTEM = "https://ownat.org/fhir/sid/practitioner"
SPECIALTY_EXTENSION = "https://ownat.org/fhir/StructureDefinition/practitioner-specialty"


def _identifier_clause(values: list[Any]) -> ColumnElement[bool]:
    # The organisation's own staff identifier is the practitioner's public id.
    codes = wanted_codes(values, PRACTITIONER_ID_SYSTEM)
    if codes.any_code:
        return true()
    wanted = [i for i in (parse_uuid(code) for code in codes.codes) if i is not None]
    return Practitioner.id.in_(wanted) if wanted else false()


def _full_name() -> Any:
    """The name's text as served: prefix, given and family name."""
    prefix = func.coalesce(Practitioner.prefix + " ", "")
    return prefix + Practitioner.given_name + " " + Practitioner.family_name


class PractitionerProvider(TableProvider):
    resource_type = "Practitioner"
    patient_data = False
    model = Practitioner
    order = (Practitioner.family_name, Practitioner.given_name)

    def search_parameters(self) -> dict[str, SearchParameter]:
        return {
            "name": SearchParameter(
                "name",
                ParamType.STRING,
                "Given or family name (starts with)",
                string_clause(Practitioner.given_name, Practitioner.family_name, _full_name()),
            ),
            "identifier": SearchParameter(
                "identifier", ParamType.TOKEN, f"{PRACTITIONER_ID_SYSTEM}|<id>", _identifier_clause
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        return [Rendered(practitioner_resource(row), None) for row in rows]


def practitioner_resource(practitioner: Practitioner) -> dict[str, Any]:
    """The FHIR Practitioner of one practitioner."""
    name = drop_empty(
        {
            "use": "official",
            "text": " ".join(
                p for p in (practitioner.prefix, practitioner.given_name, practitioner.family_name) if p
            ),
            "family": practitioner.family_name,
            "given": [practitioner.given_name],
            "prefix": [practitioner.prefix] if practitioner.prefix else [],
        }
    )
    qualifications = [
        drop_empty(
            {
                "code": concept(None, q.get("code"), q.get("display")) or {"text": str(q.get("code"))},
                "issuer": {"display": q["issuer"]} if q.get("issuer") else None,
            }
        )
        for q in practitioner.qualifications or []
        if q.get("code") or q.get("display")
    ]
    specialties = [
        {"url": SPECIALTY_EXTENSION, "valueCodeableConcept": concept(PRACTITIONER_SPECIALTY, code)}
        for code in practitioner.specialties
    ]
    return drop_empty(
        {
            "resourceType": "Practitioner",
            "id": str(practitioner.id),
            "meta": meta(practitioner),
            "extension": specialties,
            "identifier": [{"system": PRACTITIONER_ID_SYSTEM, "value": str(practitioner.id)}],
            "active": practitioner.active,
            "name": [name],
            "qualification": qualifications,
        }
    )
