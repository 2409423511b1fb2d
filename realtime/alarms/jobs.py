"""Units of work for the processes that drive the engine: each commits, then publishes what changed.

`ownat ingest` (and `ownat dev`) evaluate readings and statuses through
`realtime.alarms.live_evaluator`, many patients per transaction. `ownat worker` and `ownat dev`
run `run_periodic_checks` every few seconds (silent devices, escalation) through the one periodic
scheduler, `core.periodic`. Publishing follows the commit, so a dashboard never hears of an alarm
that a rollback then took back.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from core.periodic import PeriodicJob, PeriodicJobs
from core.resources import Resources
from core.sessions import transaction
from realtime.alarms import engine
from realtime.alarms.escalation import escalate_overdue
from realtime.alarms.publishing import publish_changes
from realtime.alarms.schemas import AlarmChange


async def run_periodic_checks(
    resources: Resources,
    *,
    now: datetime,
    silent_after_s: int | None = None,
    escalate_after_s: int | None = None,
) -> list[AlarmChange]:
    """Silent devices and overdue escalations, in one unit of work; publishes the changes.

    The limits default to the settings (`OWNAT_ALARM_SILENT_AFTER_S`, `OWNAT_ALARM_ESCALATE_AFTER_S`).
    """
    settings = resources.settings
    silent_s = settings.alarm_silent_after_s if silent_after_s is None else silent_after_s
    escalate_s = settings.alarm_escalate_after_s if escalate_after_s is None else escalate_after_s
    async with transaction(resources.sessions) as session:
        changes = await engine.check_technical(session, now=now, silent_after_s=silent_s)
        changes += await escalate_overdue(session, now=now, after_s=escalate_s)
    await publish_changes(resources.bus, changes)
    return changes


def periodic_checks_job(every_s: float, *, first_after_s: float = 0.0) -> PeriodicJob:
    """`run_periodic_checks` as a job for the periodic scheduler (`core.periodic`)."""
    return PeriodicJob("alarm checks", every_s, run_periodic_checks, first_after_s=first_after_s)


async def run_periodic_checks_forever(resources: Resources, *, interval_s: float | None = None) -> None:
    """`run_periodic_checks` every `interval_s` (`OWNAT_ALARM_CHECK_INTERVAL_S`) until cancelled."""
    every_s = resources.settings.alarm_check_interval_s if interval_s is None else interval_s
    # A schedule, not a poll: silence and escalation are judged against the clock. The first check
    # waits one interval too, so that devices starting with the process get to speak.
    job = periodic_checks_job(every_s, first_after_s=every_s)
    await PeriodicJobs([job], resources=resources).run_until(asyncio.Event())
