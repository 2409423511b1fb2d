"""What happens at the visit, recorded by staff: check-in, start, completion, no-show."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import access
from clinical.scheduling.exceptions import TransitionNotAllowed
from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import Action, next_status
from core import audit
from core.db import utc_now
from core.principal import SYSTEM, Principal

VISIT_ACTIONS = frozenset({Action.CHECK_IN, Action.START, Action.COMPLETE, Action.NO_SHOW})


async def record_visit_step(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, action: Action
) -> Appointment:
    """Moves the appointment along the state machine; any move it does not allow is a 409."""
    if action not in VISIT_ACTIONS:
        raise ValueError(f"{action} is not a visit step")  # a programming error, not a client's
    audit_action = action.value.replace("-", "_")
    appointment = await access.load(session, actor, appointment_id, action=audit_action, for_update=True)
    access.require_staff(session, actor, appointment, audit_action)
    target = next_status(appointment.status, action)
    now = utc_now()
    if action is Action.NO_SHOW and now < appointment.start_at:
        raise TransitionNotAllowed(
            "A patient can only be marked as not having come once the appointment has started.",
            extra={"current_status": appointment.status.value, "action": action.value},
        )
    appointment.status = target
    appointment.status_changed_at = now
    # SYSTEM (a background job) is no row of users; the audit entry below still names it.
    appointment.status_changed_by = None if actor == SYSTEM else actor.user_id
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action=audit_action,
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"status": target.value},
    )
    return appointment
