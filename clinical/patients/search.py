"""Patient search by name prefix, birth date or identifier, with keyset pagination and a total count.

Pages are ordered by (family name key, given name key, id); the cursor carries the last row's
position, so a page stays correct while other patients are being registered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.models import Patient, PatientIdentifier
from clinical.patients.names import MRN_PREFIX, name_key
from clinical.patients.schemas import PatientPage, PatientRead
from core import audit
from core.errors import InvalidInput
from core.paging import decode_position, encode_position, invalid_cursor
from core.principal import Principal

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_MAX_NAME_TERMS = 4


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """Criteria combine with AND; each word of `name` must start the given or the family name."""

    name: str | None = None
    birth_date: date | None = None
    identifier: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_condition(name: str) -> ColumnElement[bool]:
    terms = [name_key(term) for term in name.split() if term.strip()]
    if not terms or len(terms) > _MAX_NAME_TERMS:
        raise InvalidInput(f"name must have between 1 and {_MAX_NAME_TERMS} words.", extra={"field": "name"})
    clauses = []
    for term in terms:
        pattern = _escape_like(term) + "%"
        clauses.append(
            or_(
                Patient.family_name_key.like(pattern, escape="\\"),
                Patient.given_name_key.like(pattern, escape="\\"),
            )
        )
    return and_(*clauses)


def _identifier_condition(identifier: str) -> ColumnElement[bool]:
    # FHIR token syntax: "system|value" matches one system, a bare value matches the MRN or any system.
    system, separator, value = identifier.strip().rpartition("|")
    value = value.strip()
    if not value:
        raise InvalidInput("identifier must not be empty.", extra={"field": "identifier"})
    external = select(PatientIdentifier.patient_id).where(PatientIdentifier.value == value)
    if separator and system:
        return Patient.id.in_(external.where(PatientIdentifier.system == system))
    mrn = value.upper()
    mrn = mrn if mrn.startswith(MRN_PREFIX) else MRN_PREFIX + mrn
    return or_(Patient.mrn == mrn, Patient.id.in_(external))


def _encode_cursor(patient: Patient) -> str:
    return encode_position(patient.family_name_key, patient.given_name_key, str(patient.id))


def _decode_cursor(cursor: str) -> tuple[str, str, uuid.UUID]:
    family, given, patient_id = decode_position(cursor, length=3)
    try:
        return family, given, uuid.UUID(patient_id)
    except ValueError:
        raise invalid_cursor() from None


def _filtered(query: PatientQuery, principal: Principal) -> Select[Patient]:
    statement = patients_matching(query)
    if not principal.is_staff:
        # A patient's search can only ever find their own record.
        statement = statement.where(Patient.id == principal.patient_id)
    return statement


def patients_matching(query: PatientQuery) -> Select[Patient]:
    """The patients matching `query`, unscoped: the caller limits it to what its user may see."""
    statement = select(Patient)
    if query.name:
        statement = statement.where(_name_condition(query.name))
    if query.birth_date:
        statement = statement.where(Patient.birth_date == query.birth_date)
    if query.identifier:
        statement = statement.where(_identifier_condition(query.identifier))
    return statement


async def search_patients(
    *,
    session: AsyncSession,
    principal: Principal,
    query: PatientQuery,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> PatientPage:
    """One page of the patients matching `query` in the caller's scope, with the total count."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}.", extra={"field": "limit"})
    filtered = _filtered(query, principal)
    total = int(await session.scalar(select(func.count()).select_from(filtered.subquery())) or 0)
    order = (Patient.family_name_key, Patient.given_name_key, Patient.id)
    page_query = filtered.order_by(*order).limit(limit + 1)
    if cursor:
        page_query = page_query.where(tuple_(*order) > tuple_(*_decode_cursor(cursor)))
    rows = list((await session.scalars(page_query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record(
        session,
        actor=principal,
        action="search",
        resource_type="patient",
        detail={
            "criteria": [name for name in ("name", "birth_date", "identifier") if getattr(query, name)],
            "returned": len(rows),
        },
    )
    for patient in rows:
        audit.record(
            session,
            actor=principal,
            action="read",
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
            detail={"via": "search"},
        )
    return PatientPage(
        items=[PatientRead.model_validate(p) for p in rows],
        total=total,
        next_cursor=_encode_cursor(rows[-1]) if more else None,
    )
