"""What the seeding steps share: the session, the clock, who acts, and the ids made so far."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import AppointmentType
from core.principal import Principal
from ownat.demo.timeline import Timeline


@dataclass
class Seeding:
    session: AsyncSession
    timeline: Timeline
    admin: Principal
    nurse: Principal
    patient_account: Principal
    # Clinicians who sign in, by plan key: they author encounters, notes and orders.
    clinicians: dict[str, Principal] = field(default_factory=dict)
    practitioners: dict[str, uuid.UUID] = field(default_factory=dict)
    patients: dict[str, uuid.UUID] = field(default_factory=dict)
    beds: dict[tuple[str, int], uuid.UUID] = field(default_factory=dict)
    visit_types: dict[str, AppointmentType] = field(default_factory=dict)
    # Intervals already taken by imported past appointments, per practitioner and per patient.
    taken: dict[uuid.UUID, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def clinician(self, key: str) -> Principal:
        """The signed-in principal of the clinician `key` (KeyError: they have no account)."""
        return self.clinicians[key]

    def is_free(self, owner: uuid.UUID, start: datetime, end: datetime) -> bool:
        return all(end <= s or e <= start for s, e in self.taken.get(owner, []))

    def take(self, owner: uuid.UUID, start: datetime, end: datetime) -> None:
        self.taken.setdefault(owner, []).append((start, end))
