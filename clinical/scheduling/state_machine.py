"""The appointment's life cycle: which status may follow which, and nothing else.

    booked ──check-in──> checked_in ──start──> in_progress ──complete──> completed
      │ │                   │  └──────────────complete──────────────────────^
      │ └─no-show─> no_show └──cancel──> cancelled
      └──cancel──> cancelled

`booked` may also be rescheduled (it stays `booked`). `completed`, `cancelled` and `no_show`
are final. `cancelled` and `no_show` release the time: only the other statuses hold a slot.
Any other change is refused with TransitionNotAllowed (409).
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from clinical.scheduling.exceptions import TransitionNotAllowed


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Action(enum.StrEnum):
    """What a caller asks for; each action leads to one status."""

    RESCHEDULE = "reschedule"
    CHECK_IN = "check-in"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    NO_SHOW = "no-show"


_S = AppointmentStatus
# status -> {action: resulting status}; a missing pair is a forbidden change.
TRANSITIONS: MappingProxyType[AppointmentStatus, dict[Action, AppointmentStatus]] = MappingProxyType(
    {
        _S.BOOKED: {
            Action.RESCHEDULE: _S.BOOKED,
            Action.CHECK_IN: _S.CHECKED_IN,
            Action.CANCEL: _S.CANCELLED,
            Action.NO_SHOW: _S.NO_SHOW,
        },
        _S.CHECKED_IN: {
            Action.START: _S.IN_PROGRESS,
            Action.COMPLETE: _S.COMPLETED,
            Action.CANCEL: _S.CANCELLED,
        },
        _S.IN_PROGRESS: {Action.COMPLETE: _S.COMPLETED},
        _S.COMPLETED: {},
        _S.CANCELLED: {},
        _S.NO_SHOW: {},
    }
)

# The statuses that occupy the practitioner's and the patient's time (the exclusion constraints'
# WHERE clause lists the complement, RELEASING_STATUSES).
RELEASING_STATUSES = frozenset({_S.CANCELLED, _S.NO_SHOW})
HOLDING_STATUSES = frozenset(set(_S) - RELEASING_STATUSES)
FINAL_STATUSES = frozenset(status for status, moves in TRANSITIONS.items() if not moves)


def next_status(current: AppointmentStatus, action: Action) -> AppointmentStatus:
    """The status `action` leads to from `current`; TransitionNotAllowed if it is not allowed."""
    target = TRANSITIONS[current].get(action)
    if target is None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (the status is final)"
        raise TransitionNotAllowed(
            f"An appointment that is {current.value} cannot be given '{action.value}'; allowed: {allowed}.",
            extra={"current_status": current.value, "action": action.value},
        )
    return target
