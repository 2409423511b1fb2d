"""NEWS2 as staff see it: the score, its breakdown, and when the next full set of observations is due.

One shape for both ways it reaches a page: asked for (`charting.current_news2`, the REST answer) and
pushed by the live evaluator as it scores each patient it evaluates (`publishing.publish_news2`), so
that a dashboard shows a new score as soon as it is computed, without asking for it again and again.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from realtime.alarms.charting_schemas import MonitoringRead
from realtime.alarms.monitoring_frequency import schedule
from realtime.alarms.news2_inputs import News2Result
from realtime.alarms.schemas import News2Read


def news2_answer(
    patient_id: uuid.UUID, result: News2Result, *, last_full_set_at: datetime | None, now: datetime
) -> News2Read:
    """The answer for one patient's scored NEWS2, with the RCP monitoring frequency of its band."""
    score = result.score
    due = schedule(score.total, score.parameter_scores, last_full_set_at=last_full_set_at, now=now)
    return News2Read(
        patient_id=patient_id,
        computed_at=now,
        total=score.total,
        risk=score.risk,
        complete=score.complete,
        parameter_scores=score.parameter_scores,
        missing=list(score.missing),
        values=result.values,
        monitoring=MonitoringRead(
            frequency=due.frequency.value,
            due_every_minutes=int(due.due_after.total_seconds() // 60),
            last_full_set_at=last_full_set_at,
            due_at=due.due_at,
            overdue=due.overdue,
        ),
    )


def news2_signature(result: News2Result) -> tuple[object, ...]:
    """What a page shows of a score: a new answer is worth pushing only when this differs.

    Values that move within their bands change nothing the dashboard shows; a band, the total,
    completeness or what is missing does.
    """
    score = result.score
    return (
        score.total,
        score.risk,
        score.complete,
        tuple(sorted(score.parameter_scores.items())),
        tuple(score.missing),
    )
