"""The lab order's status lifecycle: which moves are legal, and what results make of an order.

registered -> collected -> in_progress -> preliminary -> final -> corrected; cancelled from any
status before results exist. People move orders through the first steps and cancel them; results
move them on: a laboratory may send results for an order it never reported as collected.
"""

from __future__ import annotations

from datetime import datetime

from clinical.lab.exceptions import IllegalTransition, ResultRefused
from clinical.lab.models import LabOrder
from clinical.lab.terms import OrderStatus, ResultStatus

S = OrderStatus
# Moves a person may make through the API; the others follow from results.
MANUAL_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.REGISTERED: frozenset({S.COLLECTED, S.CANCELLED}),
    S.COLLECTED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.CANCELLED}),
}
RESULT_DRIVEN = frozenset({S.PRELIMINARY, S.FINAL, S.CORRECTED})
ACCEPTS_RESULTS = frozenset({S.REGISTERED, S.COLLECTED, S.IN_PROGRESS, S.PRELIMINARY, S.FINAL, S.CORRECTED})
_TIMESTAMP = {
    S.COLLECTED: "collected_at",
    S.IN_PROGRESS: "in_progress_at",
    S.PRELIMINARY: "preliminary_at",
    S.FINAL: "final_at",
    S.CORRECTED: "corrected_at",
    S.CANCELLED: "cancelled_at",
}


def check_manual_move(current: OrderStatus, target: OrderStatus) -> None:
    """IllegalTransition unless a person may move an order from `current` to `target`."""
    if target in RESULT_DRIVEN:
        raise IllegalTransition(f"An order becomes {target.value} when its results are filed, not by hand.")
    if target not in MANUAL_MOVES.get(current, frozenset()):
        raise IllegalTransition(f"A {current.value} order cannot become {target.value}.")


def apply_status(order: LabOrder, target: OrderStatus, at: datetime) -> None:
    """Sets the status and stamps when it was reached (the first time, or each correction)."""
    order.status = target
    column = _TIMESTAMP.get(target)
    if column and (getattr(order, column) is None or target is S.CORRECTED):
        setattr(order, column, at)


def check_accepts_results(order: LabOrder) -> None:
    if order.status not in ACCEPTS_RESULTS:
        raise ResultRefused(
            f"Order {order.placer_order_number} is {order.status.value}; it takes no results."
        )


def replacement_problem(current: ResultStatus | None, incoming: ResultStatus) -> str | None:
    """Why `incoming` may not follow the test's current result, or None when it may (HL7 table 0085)."""
    if current is None or current is ResultStatus.PRELIMINARY:
        if incoming is ResultStatus.CORRECTED:
            return "a correction (C) needs a final result to correct"
        return None
    if incoming is ResultStatus.CORRECTED:
        return None
    if incoming is ResultStatus.FINAL:
        return "the test already has a final result; send a correction (C) to change it"
    return "a final result cannot be replaced by a preliminary one"


def status_from_results(current: OrderStatus, *, all_released: bool, corrected_now: bool) -> OrderStatus:
    """The order's status once results are filed: preliminary until every test is final."""
    if corrected_now and current in (S.FINAL, S.CORRECTED):
        return S.CORRECTED
    if current is S.CORRECTED:
        return S.CORRECTED
    return S.FINAL if all_released else S.PRELIMINARY
