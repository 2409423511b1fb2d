"""Audit entries about rows: the one shape of the services' "audit what was done to this" helpers.

A service declares once what every entry about its rows carries (`RowAudit`: the resource type, an
action prefix, the patient and the context each row names) and records with one call per change or
read. Lists are audited with `record_listed`: one entry per patient shown, so each patient's trail
has the read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.service import record
from core.principal import Principal

_patient_of_row = attrgetter("patient_id")


def _no_context(_row: Any) -> dict[str, Any]:
    return {}


def _plain(value: object) -> object:
    # Entries are stored as JSON, which has no UUID: ids are written as their strings.
    return str(value) if isinstance(value, uuid.UUID) else value


@dataclass(frozen=True, slots=True)
class RowAudit:
    """Records entries about rows of one resource type: the row's id and patient, the context every
    entry about such a row names first, then the call's own details."""

    resource_type: str
    # What every entry names about the row (its encounter, its kind, ...), before the call's details.
    context: Callable[[Any], dict[str, Any]] = _no_context
    # Prepended to each action ("fhir.export." + "cancel").
    action_prefix: str = ""
    # The row's patient; None for rows that belong to no patient (practitioners, export jobs).
    patient_of: Callable[[Any], uuid.UUID | None] | None = _patient_of_row

    def __call__(
        self,
        session: AsyncSession,
        actor: Principal | None,
        action: str,
        row: Any | None,
        *,
        patient_id: uuid.UUID | None = None,
        outcome: str = "success",
        **detail: object,
    ) -> None:
        """Queues the entry; `patient_id` names the patient where the row does not (a note's)."""
        if patient_id is None and row is not None and self.patient_of is not None:
            patient_id = self.patient_of(row)
        context = self.context(row) if row is not None else {}
        record(
            session,
            actor=actor,
            action=self.action_prefix + action,
            resource_type=self.resource_type,
            resource_id=None if row is None else row.id,
            patient_id=patient_id,
            outcome=outcome,
            detail={**context, **{key: _plain(value) for key, value in detail.items()}},
        )


def record_listed(
    session: AsyncSession,
    actor: Principal,
    rows: Iterable[Any],
    *,
    action: str,
    resource_type: str,
    ids_key: str = "ids",
    id_of: Callable[[Any], object] = attrgetter("id"),
    patient_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
    empty_page_entry: bool = False,
) -> None:
    """One entry per patient whose rows were listed, naming the rows' ids under `ids_key` (after
    `detail`, which every entry carries).

    With `patient_id` (a list limited to one patient) that patient gets an entry even for no rows.
    With `empty_page_entry`, a list that showed nothing gets one entry instead, for `patient_id`
    (which may be None) and without ids.
    """
    by_patient: dict[uuid.UUID, list[str]] = {}
    if patient_id is not None and not empty_page_entry:
        by_patient[patient_id] = []
    for row in rows:
        # A row of no patient (an unbound device's binding) is on no patient's trail.
        if row.patient_id is not None:
            by_patient.setdefault(row.patient_id, []).append(str(id_of(row)))
    if not by_patient and empty_page_entry:
        record(session, actor=actor, action=action, resource_type=resource_type, patient_id=patient_id)
    for patient, ids in by_patient.items():
        record(
            session,
            actor=actor,
            action=action,
            resource_type=resource_type,
            patient_id=patient,
            detail={**(detail or {}), ids_key: ids},
        )
