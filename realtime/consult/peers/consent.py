"""Consent to recording a video consultation: given or withdrawn by the encounter's patient and clinician.

The audit log is the record of consent: each change is an audit entry (append-only, hash-chained),
and the current state is the latest entry of each party. That makes consent durable, shared by every
api instance, and impossible to rewrite, without a table of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import Encounter, load_encounter
from clinical.organisation import Practitioner
from core import audit
from core.access import refuse
from core.audit import AuditEvent
from core.principal import Principal, Role

RESOURCE = "consult_recording"
GIVE, WITHDRAW = "give_consent", "withdraw_consent"
Party = Literal["patient", "clinician"]


@dataclass(frozen=True, slots=True)
class PartyOf:
    """The encounter, and which of its two parties the caller is."""

    encounter: Encounter
    party: Party
    clinician_user_id: uuid.UUID


async def party_of(
    session: AsyncSession, actor: Principal, encounter_id: uuid.UUID, *, action: str
) -> PartyOf:
    """The caller's part in the encounter; Forbidden (audited) for anyone but its patient and clinician."""
    encounter = await load_encounter(session, actor, encounter_id, action=action, resource_type=RESOURCE)
    practitioner = await session.get(Practitioner, encounter.practitioner_id)
    clinician_user_id = practitioner.user_id if practitioner is not None else None
    party: Party | None = None
    if actor.role is Role.PATIENT and actor.patient_id == encounter.patient_id:
        party = "patient"
    elif actor.role is Role.CLINICIAN and actor.user_id == clinician_user_id:
        party = "clinician"
    if party is None or clinician_user_id is None:
        refuse(
            session,
            actor,
            action=action,
            resource_type=RESOURCE,
            resource_id=encounter_id,
            patient_id=encounter.patient_id,
            message="Only the encounter's patient and its clinician take part in recording it.",
        )
    return PartyOf(encounter=encounter, party=party, clinician_user_id=clinician_user_id)


def record_consent(session: AsyncSession, actor: Principal, of: PartyOf, *, given: bool) -> None:
    """Records the caller's consent or its withdrawal (written when the request's transaction commits)."""
    audit.record(
        session,
        actor=actor,
        action=GIVE if given else WITHDRAW,
        resource_type=RESOURCE,
        resource_id=of.encounter.id,
        patient_id=of.encounter.patient_id,
        detail={"party": of.party},
    )


async def consents(session: AsyncSession, encounter: Encounter) -> dict[Party, bool]:
    """Each party's current consent, from the committed audit trail (no entry: not given)."""
    rows = await session.execute(
        select(AuditEvent.action, AuditEvent.detail)
        .where(
            # The patient's trail is indexed; the encounter's few entries are then filtered.
            AuditEvent.patient_id == encounter.patient_id,
            AuditEvent.resource_type == RESOURCE,
            AuditEvent.resource_id == str(encounter.id),
            AuditEvent.action.in_((GIVE, WITHDRAW)),
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq)
    )
    state: dict[Party, bool] = {"patient": False, "clinician": False}
    for action, detail in rows:
        party = detail.get("party")
        if party in state:
            state[party] = action == GIVE
    return state
