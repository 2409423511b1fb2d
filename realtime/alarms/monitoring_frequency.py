"""How often a patient's observations are due: the RCP's monitoring frequency for a NEWS2 band.

Royal College of Physicians, NEWS2 (2017), chart 4 "Clinical response to NEWS trigger thresholds":
aggregate 0, minimum 12-hourly; 1-4, minimum 4-6-hourly; a single parameter scoring 3, minimum
hourly; 5-6, minimum hourly; 7 or more, continuous monitoring. Where the RCP leaves a range
(4-6-hourly) a full set is due after the shorter interval: a late set is the risk, an early one
is not. With continuous monitoring the devices measure all the time, but consciousness and
oxygen are still charted by a person; we ask for them at least hourly, as for the band below.

Pure: no clock, no database; the caller gives the score and the time of the last full set.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Frequency(enum.StrEnum):
    TWELVE_HOURLY = "12-hourly"
    FOUR_TO_SIX_HOURLY = "4-6-hourly"
    HOURLY = "hourly"
    CONTINUOUS = "continuous"


# The longest a full set may wait at each frequency before it is overdue.
DUE_AFTER = {
    Frequency.TWELVE_HOURLY: timedelta(hours=12),
    Frequency.FOUR_TO_SIX_HOURLY: timedelta(hours=4),
    Frequency.HOURLY: timedelta(hours=1),
    Frequency.CONTINUOUS: timedelta(hours=1),
}


@dataclass(frozen=True, slots=True)
class Schedule:
    """The frequency in force, when the next full set is due (None: none charted yet), and whether late."""

    frequency: Frequency
    due_after: timedelta
    due_at: datetime | None
    overdue: bool


def monitoring_frequency(total: int, parameter_scores: dict[str, int]) -> Frequency:
    """The RCP's minimum monitoring frequency for a NEWS2 total and its parameter scores."""
    if total >= 7:
        return Frequency.CONTINUOUS
    if total >= 5 or 3 in parameter_scores.values():
        return Frequency.HOURLY
    if total >= 1:
        return Frequency.FOUR_TO_SIX_HOURLY
    return Frequency.TWELVE_HOURLY


def schedule(
    total: int, parameter_scores: dict[str, int], *, last_full_set_at: datetime | None, now: datetime
) -> Schedule:
    """When the next full set is due; a patient with no full set charted is overdue."""
    frequency = monitoring_frequency(total, parameter_scores)
    due_after = DUE_AFTER[frequency]
    if last_full_set_at is None:
        return Schedule(frequency, due_after, None, overdue=True)
    due_at = last_full_set_at + due_after
    return Schedule(frequency, due_after, due_at, overdue=now > due_at)
