"""Patient: demographics and contact details, through the patients service.

The MRN is the server's; other identifiers sent on create are added as the patient's external
identifiers (staff only, like their REST twin). An update changes only what differs from the
record, so that a patient changing their own phone number is not refused for sending their name.
"""

from __future__ import annotations

from typing import Any

from clinical import patients
from clinical.fhir.constants import MRN_SYSTEM
from clinical.fhir.provider import FhirContext
from clinical.fhir.writes import reading
from clinical.fhir.writes.base import Writer, build
from clinical.patients import IdentifierCreate, PatientCreate, PatientUpdate, load_patient


def _name(resource: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in reading.element(resource, "name") or [] if isinstance(n, dict)]
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in chosen.get("given") or [] if isinstance(g, str))
    return {"given_name": given, "family_name": reading.text(chosen, "family", required=True)}


def _telecom(resource: dict[str, Any], system: str) -> str | None:
    found = [
        t
        for t in reading.element(resource, "telecom") or []
        if isinstance(t, dict) and t.get("system") == system
    ]
    return reading.text(found[0], "value") if found else None


def demographics(resource: dict[str, Any]) -> dict[str, Any]:
    """The patient fields a Patient resource gives (absent ones as None)."""
    address = reading.element(resource, "address.0") or {}
    lines = [line for line in address.get("line") or [] if isinstance(line, str)]
    contact = reading.element(resource, "contact.0") or {}
    return {
        **_name(resource),
        "birth_date": reading.day(resource, "birthDate"),
        "gender": reading.text(resource, "gender"),
        "phone": _telecom(resource, "phone"),
        "email": _telecom(resource, "email"),
        "address_line1": lines[0] if lines else None,
        "address_line2": lines[1] if len(lines) > 1 else None,
        "city": reading.text(address, "city"),
        "region": reading.text(address, "state"),
        "postal_code": reading.text(address, "postalCode"),
        "country": reading.text(address, "country"),
        "preferred_language": reading.code(resource, "communication.0.language"),
        "emergency_contact_name": reading.text(contact, "name.text"),
        "emergency_contact_relationship": reading.text(contact, "relationship.0.text"),
        "emergency_contact_phone": _telecom(contact, "phone"),
    }


class PatientWriter(Writer):
    resource_type = "Patient"
    refusal = "Patient records are kept; set active to false instead."

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        fields = {k: v for k, v in demographics(resource).items() if v is not None}
        patient = await patients.create_patient(
            session=ctx.session, actor=ctx.principal, data=build(PatientCreate, **fields)
        )
        for identifier in reading.element(resource, "identifier") or []:
            system, value = reading.text(identifier, "system"), reading.text(identifier, "value")
            if system and value and system != MRN_SYSTEM:
                data = build(
                    IdentifierCreate,
                    system=system,
                    value=value,
                    type_text=reading.text(identifier, "type.text"),
                )
                await patients.add_identifier(
                    session=ctx.session, principal=ctx.principal, patient_id=patient.id, data=data
                )
        return str(patient.id)

    async def update(self, ctx: FhirContext, resource_id: str, resource: dict[str, Any]) -> None:
        patient_id = reading.parse_id(resource_id, self.resource_type)
        patient = await load_patient(session=ctx.session, principal=ctx.principal, patient_id=patient_id)
        wanted = {
            **demographics(resource),
            "active": reading.element(resource, "active"),
            "deceased_at": reading.instant(resource, "deceasedDateTime"),
        }
        if wanted["active"] is None:
            del wanted["active"]
        changes = {name: value for name, value in wanted.items() if _differs(getattr(patient, name), value)}
        if changes:
            await patients.update_patient(
                session=ctx.session,
                principal=ctx.principal,
                patient_id=patient.id,
                changes=build(PatientUpdate, **changes),
            )


def _differs(stored: Any, sent: Any) -> bool:
    if sent is None:
        return stored is not None
    return str(stored.value if hasattr(stored, "value") else stored) != str(sent)
