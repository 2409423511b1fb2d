"""Patient: demographics, the MRN and external identifiers, contacts and the emergency contact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true

from clinical.fhir.constants import ADMINISTRATIVE_GENDER, IDENTIFIER_TYPE, MRN_SYSTEM
from clinical.fhir.provider import FhirContext, Rendered, TableProvider
from clinical.fhir.resources.common import concept, day, drop_empty, instant, meta
from clinical.fhir.search.clauses import Column, date_clause, string_match, token_clause
from clinical.fhir.search.request import SearchParameter
from clinical.fhir.search.values import ParamType, StringValue, TokenValue
from clinical.patients import Patient, PatientIdentifier, name_key


def _folded(value: StringValue) -> StringValue:
    # Names are searched through their folded keys, so "muller" finds "Müller"; spaces as in the text.
    text = " ".join(value.text.split())
    return StringValue(text if value.modifier == "exact" else name_key(text), value.modifier)


def _full_name(given: Column, family: Column) -> Column:
    """The name's text as served (`HumanName.text`: given then family name)."""
    return func.trim(given + " " + family)


def _name_clause(*columns: tuple[Column, Column]) -> Any:
    def build(values: list[Any]) -> ColumnElement[bool]:
        return or_(
            *(
                string_match(exact if value.modifier == "exact" else key, _folded(value))
                for value in values
                for exact, key in columns
            )
        )

    return build


def _identifier_clause(values: list[Any]) -> ColumnElement[bool]:
    matches: list[ColumnElement[bool]] = []
    for value in values:
        assert isinstance(value, TokenValue)
        if value.system == "":
            continue  # `|value`: every identifier held here has a system
        if value.system in (None, MRN_SYSTEM):
            matches.append(true() if value.code is None else Patient.mrn == value.code.upper())
        if value.system != MRN_SYSTEM:
            external = select(PatientIdentifier.patient_id)
            if value.code is not None:
                external = external.where(PatientIdentifier.value == value.code)
            if value.system:
                external = external.where(PatientIdentifier.system == value.system)
            matches.append(Patient.id.in_(external))
    return or_(*matches) if matches else false()


class PatientProvider(TableProvider):
    resource_type = "Patient"
    model = Patient
    order = (Patient.family_name_key, Patient.given_name_key)

    def patient_column(self) -> Any:
        return Patient.id

    def search_parameters(self) -> dict[str, SearchParameter]:
        given = (Patient.given_name, Patient.given_name_key)
        family = (Patient.family_name, Patient.family_name_key)
        text = (
            _full_name(Patient.given_name, Patient.family_name),
            _full_name(Patient.given_name_key, Patient.family_name_key),
        )
        return {
            "name": SearchParameter(
                "name",
                ParamType.STRING,
                "Given name, family name or the whole name's text (starts with)",
                _name_clause(given, family, text),
            ),
            "family": SearchParameter(
                "family", ParamType.STRING, "Family name", _name_clause(family), sort=Patient.family_name_key
            ),
            "given": SearchParameter(
                "given", ParamType.STRING, "Given name", _name_clause(given), sort=Patient.given_name_key
            ),
            "birthdate": SearchParameter(
                "birthdate",
                ParamType.DATE,
                "Birth date",
                date_clause(Patient.birth_date, date_only=True),
                sort=Patient.birth_date,
            ),
            "gender": SearchParameter(
                "gender",
                ParamType.TOKEN,
                "Administrative gender",
                token_clause(Patient.gender, system=ADMINISTRATIVE_GENDER),
            ),
            "identifier": SearchParameter(
                "identifier", ParamType.TOKEN, "MRN or an external identifier", _identifier_clause
            ),
        }

    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        identifiers: dict[Any, list[PatientIdentifier]] = defaultdict(list)
        if rows:
            found = await ctx.session.scalars(
                select(PatientIdentifier)
                .where(PatientIdentifier.patient_id.in_([r.id for r in rows]))
                .order_by(PatientIdentifier.system, PatientIdentifier.value)
            )
            for identifier in found:
                identifiers[identifier.patient_id].append(identifier)
        return [Rendered(patient_resource(row, identifiers[row.id]), row.id) for row in rows]


def patient_resource(patient: Patient, identifiers: Sequence[PatientIdentifier]) -> dict[str, Any]:
    """The FHIR Patient of one patient record."""
    mrn = {
        "use": "usual",
        "type": concept(IDENTIFIER_TYPE, "MR", "Medical record number"),
        "system": MRN_SYSTEM,
        "value": patient.mrn,
    }
    external = [
        drop_empty(
            {"system": i.system, "value": i.value, "type": {"text": i.type_text} if i.type_text else None}
        )
        for i in identifiers
    ]
    telecom = [
        {"system": "phone", "value": patient.phone, "use": "home"} if patient.phone else None,
        {"system": "email", "value": patient.email} if patient.email else None,
    ]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": meta(patient),
        "identifier": [mrn, *external],
        "active": patient.active,
        "name": [_human_name(patient)],
        "telecom": [t for t in telecom if t],
        "gender": patient.gender.value,
        "birthDate": day(patient.birth_date),
        "address": [_address(patient)] if _address(patient) else [],
        "contact": [_emergency_contact(patient)] if patient.emergency_contact_name else [],
        "communication": _communication(patient),
    }
    if patient.deceased:
        resource.update(
            {"deceasedDateTime": instant(patient.deceased_at)}
            if patient.deceased_at
            else {"deceasedBoolean": True}
        )
    return drop_empty(resource)


def _human_name(patient: Patient) -> dict[str, Any]:
    return drop_empty(
        {
            "use": "official",
            "text": f"{patient.given_name} {patient.family_name}".strip(),
            "family": patient.family_name,
            "given": [patient.given_name] if patient.given_name else [],
        }
    )


def _address(patient: Patient) -> dict[str, Any]:
    return drop_empty(
        {
            "line": [line for line in (patient.address_line1, patient.address_line2) if line],
            "city": patient.city,
            "state": patient.region,
            "postalCode": patient.postal_code,
            "country": patient.country,
        }
    )


def _emergency_contact(patient: Patient) -> dict[str, Any]:
    relationship = patient.emergency_contact_relationship
    phone = patient.emergency_contact_phone
    return drop_empty(
        {
            "relationship": [{"text": relationship}] if relationship else [],
            "name": {"text": patient.emergency_contact_name},
            "telecom": [{"system": "phone", "value": phone}] if phone else [],
        }
    )


def _communication(patient: Patient) -> list[dict[str, Any]]:
    if not patient.preferred_language:
        return []
    language = concept("urn:ietf:bcp:47", patient.preferred_language)
    return [{"language": language, "preferred": True}]
