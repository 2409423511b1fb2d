"""Which tables each exported type streams from, and which patients a group or patient export covers.

A type is exportable when its provider is table-backed (one table, or several concatenated); free
Slots, computed from schedules, are not. Patient- and group-level exports cover the types of the
Patient compartment (rows that name a patient). A Group is a ward: `Group/<ward id>` holds the
patients admitted to one of its beds when the export starts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select

from clinical.fhir.composite import CompositeProvider
from clinical.fhir.provider import ResourceProvider, TableProvider
from clinical.fhir.registry import providers
from clinical.organisation import Admission, Bed
from core.principal import Principal


def table_sources(provider: ResourceProvider) -> list[TableProvider]:
    """The table-backed sources of a type, in the order the FHIR API lists them; none if computed."""
    if isinstance(provider, CompositeProvider):
        return [source() for source in provider.sources]
    if isinstance(provider, TableProvider):
        return [provider]
    return []


def exportable_types(level: str) -> list[str]:
    """The types an export at `level` writes when `_type` does not choose."""
    types = []
    for provider in providers():
        sources = table_sources(provider)
        if not sources:
            continue
        if level != "system" and all(source.patient_column() is None for source in sources):
            continue
        types.append(provider.resource_type)
    return types


def ward_patients(ward_id: uuid.UUID, at: datetime) -> Select[Any]:
    """The ids of the patients in one of the ward's beds at `at` (the Group's members)."""
    return (
        select(Admission.patient_id)
        .join(Bed, Bed.id == Admission.bed_id)
        .where(
            Bed.ward_id == ward_id,
            Admission.start_at <= at,
            or_(Admission.end_at.is_(None), Admission.end_at > at),
        )
    )


def export_query(
    source: TableProvider,
    principal: Principal,
    *,
    level: str,
    group_id: uuid.UUID | None,
    since: datetime | None,
    at: datetime,
) -> Select[Any] | None:
    """The rows of one source an export writes; None when the source has no rows at this level."""
    query = source.base_query(principal)
    column = source.patient_column()
    if level != "system":
        if column is None:
            return None
        query = query.where(column.is_not(None))
    if level == "group" and group_id is not None and column is not None:
        query = query.where(column.in_(ward_patients(group_id, at)))
    if since is not None:
        query = query.where(source.last_changed() >= since)
    return query
