"""One patient's alarms decided in memory, step by step, on simulated time: no database, no clock.

The same decisions as the live evaluator (`engine.decide`'s order: readings, NEWS2 from the
current values, then time), with the state the database would keep held here instead. What
`bench.alarms` replays a simulated ward through, and what the policy tests drive.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from realtime.alarms.decisions import DEFAULT_POLICY, PatientWork, ReadingLike, decide
from realtime.alarms.defaults import Limits
from realtime.alarms.models import Alarm, AlarmStatus
from realtime.alarms.news2_inputs import ChartedObservation
from realtime.alarms.policy import AlarmPolicy
from realtime.alarms.schemas import AlarmChange


class ReplayedPatient:
    """A patient's pending conditions, open alarms and current values between steps."""

    def __init__(
        self,
        limits: dict[str, Limits],
        *,
        policy: AlarmPolicy = DEFAULT_POLICY,
        observation: ChartedObservation | None = None,
    ) -> None:
        self.patient_id = uuid.uuid4()
        self.limits = limits
        self.policy = policy
        self.observation = observation
        self.conditions: dict[str, datetime] = {}
        self.open_alarms: dict[str, Alarm] = {}
        self.current: dict[str, tuple[float, datetime]] = {}
        self.suppressed: set[str] = set()

    def step(self, readings: Sequence[ReadingLike], now: datetime) -> list[AlarmChange]:
        """Evaluates these readings (possibly none) at `now`; the alarm changes it made."""
        work = PatientWork(
            patient_id=self.patient_id,
            bed_id=None,
            ward_id=None,
            limits=self.limits,
            stored_conditions=self.conditions,
            open_alarms=self.open_alarms,
        )
        work.suppressed = set(self.suppressed)
        decide(work, readings, self.current, self.observation, now=now, policy=self.policy)
        self.conditions = work.conditions
        return work.changes

    def acknowledge(self, keys: Iterable[str], now: datetime) -> None:
        """A nurse acknowledges these alarms (an ended latched one is then done)."""
        for key in list(keys):
            alarm = self.open_alarms.get(key)
            if alarm is None:
                continue
            if alarm.condition_ended_at is not None:
                alarm.status = AlarmStatus.RESOLVED
                del self.open_alarms[key]
            else:
                alarm.status, alarm.acknowledged_at = AlarmStatus.ACKNOWLEDGED, now
