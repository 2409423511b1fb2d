"""Which patients' NEWS2 the live evaluator pushes, and when.

A dashboard shows what `news2_signature` holds of a score. A new band or a change of completeness
is pushed with the round that scored it: a nurse must see a patient turn amber now. A change within
the band (the total moving from 2 to 3, a parameter's points) is pushed at most once an interval per
patient: at 2,000 monitored patients it would otherwise be pushed every second or so. A change held
back by the interval is not dropped: it goes once the interval is over, even if the patient is not
evaluated again, so that no page keeps a total the patient no longer has.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from realtime.alarms.news2_answers import news2_signature

if TYPE_CHECKING:
    from realtime.alarms.engine import Evaluation

Signature = tuple[object, ...]


class News2Pushes:
    """What pages were last shown of each patient's score, and what is due to be pushed."""

    def __init__(self, *, interval_s: float) -> None:
        self.interval_s = interval_s
        self._shown: dict[uuid.UUID, Signature] = {}
        self._pushed_s: dict[uuid.UUID, float] = {}
        # Due with the next push; and changes within a band that wait for their interval to end.
        self._due: dict[uuid.UUID, Evaluation] = {}
        self._held: dict[uuid.UUID, Evaluation] = {}

    def evaluated(self, patient_id: uuid.UUID, evaluation: Evaluation, *, now_s: float) -> None:
        """Takes note of a committed evaluation: due now, held for the interval, or nothing new."""
        shown = news2_signature(evaluation.news2)
        last = self._shown.get(patient_id)
        if last == shown:
            # Back to what pages show (or never changed): a change held back is no longer news.
            self._held.pop(patient_id, None)
            return
        # (total, risk, complete, ...): the band and completeness are what may not wait.
        if last is None or last[1:3] != shown[1:3] or self._interval_over(patient_id, now_s):
            self._mark_due(patient_id, evaluation, shown, now_s)
        else:
            self._held[patient_id] = evaluation

    def take_due(self, *, now_s: float) -> dict[uuid.UUID, Evaluation]:
        """The evaluations to push now, the held ones whose interval is over included."""
        for patient_id in [p for p in self._held if self._interval_over(p, now_s)]:
            evaluation = self._held.pop(patient_id)
            self._mark_due(patient_id, evaluation, news2_signature(evaluation.news2), now_s)
        due, self._due = self._due, {}
        return due

    def not_pushed(self, patient_ids: list[uuid.UUID]) -> None:
        """The push failed: these patients' next evaluation pushes their score whatever it is."""
        for patient_id in patient_ids:
            self._shown.pop(patient_id, None)

    def forget_older_than(self, cutoff_s: float) -> None:
        """Drops patients not pushed since `cutoff_s` (discharged, or unmonitored): the cache stays
        the size of the monitored wards. A forgotten patient's next evaluation is pushed at once."""
        for patient_id in [p for p, at in self._pushed_s.items() if at < cutoff_s and p not in self._held]:
            del self._pushed_s[patient_id]
            self._shown.pop(patient_id, None)

    def __len__(self) -> int:
        return len(self._shown)

    def _interval_over(self, patient_id: uuid.UUID, now_s: float) -> bool:
        return now_s - self._pushed_s.get(patient_id, float("-inf")) >= self.interval_s

    def _mark_due(
        self, patient_id: uuid.UUID, evaluation: Evaluation, shown: Signature, now_s: float
    ) -> None:
        self._shown[patient_id] = shown
        self._pushed_s[patient_id] = now_s
        self._held.pop(patient_id, None)
        self._due[patient_id] = evaluation
